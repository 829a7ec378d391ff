import { inspect } from "node:util";
import { ClickHouseTraceSchema } from "@tracehouse/clickhouse";
import type { Sink } from "@tracehouse/clickhouse";
import { RECORD_TYPES, SecurityError, SecurityErrorReason } from "@tracehouse/schemas";
import type { KafkaSecurityOptions, Logger } from "@tracehouse/schemas";
import { uniqueName, useSecureKafka } from "@tracehouse/testkit";
import type { SecureKafka } from "@tracehouse/testkit";
import { expect } from "chai";
import { Registry } from "prom-client";
import { createWorker, replay } from "../src/index.js";
import { processSink, waitFor } from "./helpers/env.js";
import { seedCatalogueTopics } from "./helpers/records.js";

const PER_TYPE = 4;

function capturingLogger(): Logger & { text(): string } {
  const lines: string[] = [];
  const at = (message: string, fields?: unknown): void => {
    lines.push(`${message} ${inspect(fields, { depth: 8 })}`);
  };
  return { debug: at, info: at, warn: at, error: at, text: () => lines.join("\n") };
}

describe("worker and replay over TLS and SASL (the secure test broker)", function () {
  this.timeout(120_000);
  let broker: SecureKafka;
  let prefix: string;
  let database: string;
  let sink: Sink;

  before(async () => {
    broker = useSecureKafka();
    prefix = `${uniqueName("secwk")}.`;
    await seedCatalogueTopics(broker.plaintextBrokers, prefix, PER_TYPE);
    database = uniqueName("secwk");
    sink = processSink(database);
    await new ClickHouseTraceSchema(sink, { ttlDays: null }).createTables();
  });
  after(async () => {
    broker.stop();
    await sink?.command(`DROP DATABASE IF EXISTS ${database} SYNC`).catch(() => undefined);
    await sink?.close();
  });

  const scram = (b: SecureKafka, password = b.password): KafkaSecurityOptions => ({
    tls: { caFile: b.caFile },
    sasl: { mechanism: "scram-sha-256", username: b.username, password },
  });

  it("a worker consumes every record over SASL_SSL; its status and metrics never hold the password", async () => {
    const logger = capturingLogger();
    const registry = new Registry();
    const worker = createWorker({
      brokers: broker.saslSslBrokers,
      ...scram(broker),
      topicPrefix: prefix,
      groupId: uniqueName("secgroup"),
      sink,
      registry,
      logger,
    });
    try {
      await worker.start();
      const total = PER_TYPE * RECORD_TYPES.length;
      await waitFor(
        async () => {
          const metric = await registry.getSingleMetric("tracehouse_worker_records_total")!.get();
          return metric.values.reduce((sum, v) => sum + v.value, 0) >= total;
        },
        { timeoutMs: 60_000, what: "every record consumed" },
      );
      expect(JSON.stringify(worker.status())).to.not.include(broker.password);
      expect(await registry.metrics()).to.not.include(broker.password);
      expect(inspect(worker.config, { depth: 8 })).to.not.include(broker.password);
    } finally {
      await worker.stop();
    }
    expect(logger.text()).to.not.include(broker.password);
  });

  it("replay reads over mutual TLS with a client certificate", async () => {
    const result = await replay({
      brokers: broker.mtlsBrokers,
      tls: { caFile: broker.caFile, certFile: broker.clientCertFile, keyFile: broker.clientKeyFile },
      topicPrefix: prefix,
      sink,
      from: { earliest: true },
    });
    expect(result.records).to.equal(PER_TYPE * RECORD_TYPES.length);
  });

  const refusals: [
    string,
    (b: SecureKafka) => { brokers: readonly string[] } & KafkaSecurityOptions,
    SecurityErrorReason,
  ][] = [
    [
      "a wrong password",
      (b) => ({ brokers: b.saslSslBrokers, ...scram(b, `${b.password}x`) }),
      SecurityErrorReason.Authentication,
    ],
    [
      "an untrusted certificate",
      (b) => ({ ...scram(b), tls: true, brokers: b.saslSslBrokers }),
      SecurityErrorReason.UntrustedCertificate,
    ],
    [
      "a wrong hostname",
      (b) => ({ ...scram(b), brokers: b.saslSslBrokers.map((a) => a.replace("127.0.0.1", "localhost")) }),
      SecurityErrorReason.HostnameMismatch,
    ],
    [
      "a missing client certificate",
      (b) => ({ brokers: b.mtlsBrokers, tls: { caFile: b.caFile } }),
      SecurityErrorReason.ClientCertificate,
    ],
  ];
  for (const [name, options, reason] of refusals) {
    it(`start() rejects ${name} within 5 s with a SecurityError (${reason}) and no secret`, async () => {
      const logger = capturingLogger();
      const worker = createWorker({
        ...options(broker),
        topicPrefix: prefix,
        sink,
        logger,
        groupId: uniqueName("refused"),
      });
      const started = Date.now();
      const error = await worker.start().then(
        () => null,
        (e: unknown) => e,
      );
      const elapsedMs = Date.now() - started;
      await worker.stop();
      expect(error).to.be.instanceOf(SecurityError);
      expect((error as SecurityError).reason).to.equal(reason);
      expect((error as SecurityError).retriable).to.equal(false);
      expect(elapsedMs, "time to the error").to.be.below(5000);
      const everything = `${inspect(error, { depth: 10 })}\n${logger.text()}\n${JSON.stringify(worker.status())}`;
      expect(everything).to.not.include(broker.password);
    });
  }
});
