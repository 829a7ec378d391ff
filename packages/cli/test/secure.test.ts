import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RECORD_TYPES } from "@tracehouse/schemas";
import { uniqueName, useSecureKafka } from "@tracehouse/testkit";
import type { SecureKafka } from "@tracehouse/testkit";
import { expect } from "chai";
import { seedCatalogueTopics } from "../../worker/test/helpers/records.js";
import { runCli, spawnCli } from "./helpers/cli.js";

const PER_TYPE = 3;

describe("tracehouse over SASL_SSL (the secure test broker)", function () {
  this.timeout(180_000);
  let broker: SecureKafka;
  let prefix: string;
  let dir: string;

  before(async () => {
    broker = useSecureKafka();
    dir = mkdtempSync(join(tmpdir(), "tracehouse-secure-cli-"));
    prefix = `${uniqueName("seccli")}.`;
    await seedCatalogueTopics(broker.plaintextBrokers, prefix, PER_TYPE);
  });
  after(() => {
    broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Flags of a SCRAM login over TLS; the password comes from the environment or a file. */
  function secured(overrides: { brokers?: readonly string[]; ca?: boolean } = {}): string[] {
    return [
      "--brokers",
      (overrides.brokers ?? broker.saslSslBrokers).join(","),
      "--kafka-security-protocol",
      "sasl_ssl",
      ...(overrides.ca === false ? [] : ["--kafka-ca-file", broker.caFile]),
      "--kafka-sasl-mechanism",
      "scram-sha-512",
      "--kafka-sasl-username",
      broker.username,
      "--topic-prefix",
      prefix,
      "--log-level",
      "trace",
    ];
  }

  const replayArgs = (name: string): string[] => [
    "replay",
    "--from",
    "earliest",
    "--json",
    "--progress",
    "none",
    "--data-dir",
    join(dir, name),
    // the sample records are older than the default TTL, which the worker would dead-letter
    "--ttl-days",
    "none",
  ];

  it("replay reads every record over SASL_SSL with the password from a file; no output holds it", async () => {
    const result = await runCli([
      ...replayArgs("file"),
      ...secured(),
      "--kafka-sasl-password-file",
      broker.passwordFile,
    ]);
    expect(result.code, result.stderr).to.equal(0);
    const report = JSON.parse(result.stdout) as { records: number; written: number };
    expect(report.records).to.equal(PER_TYPE * RECORD_TYPES.length);
    expect(report.written).to.equal(PER_TYPE * RECORD_TYPES.length);
    expect(result.stdout + result.stderr).to.not.include(broker.password);
  });

  it("the worker consumes over SASL_SSL with KAFKA_SASL_PASSWORD; logs, /metrics, /healthz and --help never show it", async () => {
    const env = { KAFKA_SASL_PASSWORD: broker.password };
    const worker = spawnCli(
      [
        "worker",
        ...secured(),
        "--data-dir",
        join(dir, "worker"),
        "--ttl-days",
        "none",
        "--health-port",
        "0",
        "--health-host",
        "127.0.0.1",
        "--group-id",
        uniqueName("secgroup"),
      ],
      env,
    );
    try {
      const started = await worker.logLine("worker started", 90_000);
      expect(started["kafka"]).to.deep.include({
        protocol: "sasl_ssl",
        mechanism: "scram-sha-512",
        customCa: true,
      });
      const listening = await worker.logLine("health server listening");
      const base = `http://127.0.0.1:${String(listening["port"])}`;
      const written = (text: string): number =>
        [...text.matchAll(/^tracehouse_worker_records_total\{[^}]*outcome="written"[^}]*\} (\d+)/gm)].reduce(
          (sum, match) => sum + Number(match[1]),
          0,
        );
      let metrics = "";
      for (let i = 0; i < 150 && written(metrics) < PER_TYPE * RECORD_TYPES.length; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        metrics = await (await fetch(`${base}/metrics`)).text();
      }
      expect(written(metrics), "records the worker wrote").to.equal(PER_TYPE * RECORD_TYPES.length);
      const health = await (await fetch(`${base}/healthz`)).text();
      expect(metrics + health).to.not.include(broker.password);
    } finally {
      worker.child.kill("SIGTERM");
    }
    const result = await worker.exited;
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout + result.stderr).to.not.include(broker.password);
    const help = await runCli(["worker", "--help"], env);
    expect(help.stdout).to.include("KAFKA_SASL_PASSWORD").and.not.include(broker.password);
  });

  const refusals: [string, () => string[], Record<string, string>, RegExp][] = [
    [
      "a wrong password",
      () => secured(),
      { KAFKA_SASL_PASSWORD: "not-the-password-4711" },
      /check the user, the password/,
    ],
    ["an untrusted certificate", () => secured({ ca: false }), {}, /does not chain to a trusted CA/],
    [
      "a wrong hostname",
      () => secured({ brokers: broker.saslSslBrokers.map((b) => b.replace("127.0.0.1", "localhost")) }),
      {},
      /does not name the host/,
    ],
  ];
  for (const [name, args, extraEnv, cause] of refusals) {
    it(`replay and worker end within seconds on ${name}, with a SecurityError naming it and no secret`, async () => {
      const env = { KAFKA_SASL_PASSWORD: broker.password, ...extraEnv };
      for (const command of [
        replayArgs(`refused-${name.length}`),
        ["worker", "--health-port", "off", "--data-dir", join(dir, `w-${name.length}`)],
      ]) {
        const started = Date.now();
        const result = await runCli([...command, ...args()], env);
        expect(Date.now() - started, `${command[0]} time to fail`).to.be.below(20_000);
        expect(result.code, result.stderr).to.equal(1);
        expect(result.stderr).to.include("SecurityError (SECURITY)").and.match(cause);
        const output = result.stdout + result.stderr;
        expect(output).to.not.include(broker.password);
        expect(output).to.not.include("not-the-password-4711");
      }
    });
  }
});
