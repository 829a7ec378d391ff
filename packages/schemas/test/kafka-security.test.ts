import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { expect } from "chai";
import {
  ConfigError,
  SecurityError,
  SecurityErrorReason,
  resolveKafkaSecurity,
  securityErrorOf,
} from "../src/index.js";

describe("Kafka security options", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tracehouse-kafka-security-"));
    writeFileSync(join(dir, "password"), "s3cret-from-file\n");
    writeFileSync(join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\nnot checked here\n");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("is plaintext without options", () => {
    const security = resolveKafkaSecurity();
    expect(security.summary.protocol).to.equal("plaintext");
    expect(security.tls).to.equal(null);
    expect(security.clientOptions()).to.deep.equal({});
  });

  it("reads the CA and the password from files; the password is in no enumerable property", () => {
    const security = resolveKafkaSecurity({
      tls: { caFile: join(dir, "ca.pem") },
      sasl: { mechanism: "scram-sha-512", username: "agents", passwordFile: join(dir, "password") },
    });
    expect(security.summary).to.deep.equal({
      protocol: "sasl_ssl",
      mechanism: "scram-sha-512",
      username: "agents",
      customCa: true,
      clientCertificate: false,
      verifyHostname: true,
    });
    const client = security.clientOptions();
    expect(String(client.ssl?.ca)).to.include("not checked here");
    expect((client.sasl as { password: string }).password).to.equal("s3cret-from-file");
    expect(JSON.stringify(client)).to.not.include("s3cret");
    expect(inspect(client, { depth: 5 })).to.not.include("s3cret");
    expect(inspect(security, { depth: 5 })).to.not.include("s3cret");
    expect(security.clientOptions().sasl, "a fresh object per client").to.not.equal(client.sasl);
  });

  it("turns hostname verification off only when asked, keeping the chain check", () => {
    const security = resolveKafkaSecurity({ tls: { verifyHostname: false } });
    expect(security.summary.verifyHostname).to.equal(false);
    expect(security.tls?.rejectUnauthorized).to.equal(true);
    expect(security.tls?.checkServerIdentity?.("localhost", {} as never)).to.equal(undefined);
    expect(resolveKafkaSecurity({ tls: true }).tls?.checkServerIdentity).to.equal(undefined);
  });

  it("throws ConfigError on contradictions and missing credentials, naming no secret", () => {
    const cases: [Parameters<typeof resolveKafkaSecurity>[0], RegExp][] = [
      [{ tls: { ca: "x", caFile: "y" } }, /either tls.ca or tls.caFile/],
      [{ tls: { certFile: join(dir, "ca.pem") } }, /tls.cert and tls.key go together/],
      [{ tls: { caFile: join(dir, "missing.pem") } }, /tls.caFile: cannot read/],
      [{ sasl: { mechanism: "scram-sha-256", password: "p" } }, /needs sasl.username/],
      [{ sasl: { mechanism: "plain", username: "u" } }, /needs a password/],
      [{ sasl: { mechanism: "plain", username: "u", password: "hunter2", passwordFile: "f" } }, /not both/],
      [{ sasl: { mechanism: "oauthbearer" } }, /token callback/],
      [{ sasl: { mechanism: "gssapi" as never, username: "u", password: "hunter2" } }, /must be one of/],
    ];
    for (const [options, message] of cases) {
      let error: unknown;
      try {
        resolveKafkaSecurity(options);
      } catch (caught) {
        error = caught;
      }
      expect(error, inspect(options)).to.be.instanceOf(ConfigError);
      expect((error as Error).message)
        .to.match(message)
        .and.not.include("hunter2");
    }
  });

  it("warns when SASL PLAIN runs without TLS", () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error() {} };
    resolveKafkaSecurity({ sasl: { mechanism: "plain", username: "u", password: "p" } }, logger);
    expect(warnings.join()).to.match(/clear text/);
  });

  it("classifies refusals by the codes Node and kafkajs give them, and leaves outages alone", () => {
    const connection = (code: string): Error =>
      Object.assign(new Error("Connection error"), {
        name: "KafkaJSConnectionError",
        code,
        broker: "b:9093",
      });
    const wrapped = (cause: Error): Error =>
      Object.assign(new Error("retries exceeded"), { name: "KafkaJSNumberOfRetriesExceeded", cause });
    const expectations: [Error, SecurityErrorReason | null][] = [
      [wrapped(connection("SELF_SIGNED_CERT_IN_CHAIN")), SecurityErrorReason.UntrustedCertificate],
      [connection("ERR_TLS_CERT_ALTNAME_INVALID"), SecurityErrorReason.HostnameMismatch],
      [connection("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED"), SecurityErrorReason.ClientCertificate],
      [
        Object.assign(new Error("SASL failed"), { name: "KafkaJSSASLAuthenticationError" }),
        SecurityErrorReason.Authentication,
      ],
      [connection("ECONNREFUSED"), null],
      [new Error("Connection timeout"), null],
    ];
    for (const [error, reason] of expectations) {
      const refused = securityErrorOf(error, "kafka");
      expect(refused?.reason ?? null, error.message).to.equal(reason);
      if (refused !== null) {
        expect(refused).to.be.instanceOf(SecurityError);
        expect(refused.retriable).to.equal(false);
        expect(refused.code).to.equal("SECURITY");
        expect(refused.cause).to.equal(error);
      }
    }
    expect(securityErrorOf(connection("CERT_HAS_EXPIRED"), "kafka")?.endpoint).to.equal("b:9093");
  });
});
