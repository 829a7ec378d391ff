import { inspect } from "node:util";
import { createTopicCatalogue } from "@tracehouse/schemas";
import type { KafkaSecurityOptions, Logger } from "@tracehouse/schemas";
import { uniqueName, useSecureKafka } from "@tracehouse/testkit";
import type { SecureKafka } from "@tracehouse/testkit";
import { expect } from "chai";
import { Kafka, logLevel } from "kafkajs";
import { createProducer } from "../src/index.js";
import type { Producer } from "../src/index.js";

interface Line {
  readonly level: string;
  readonly message: string;
  readonly fields: unknown;
}

function recordingLogger(): Logger & { readonly lines: Line[]; text(): string } {
  const lines: Line[] = [];
  const at =
    (level: string) =>
    (message: string, fields?: unknown): void => {
      lines.push({ level, message, fields });
    };
  return {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    text: () => lines.map((l) => `${l.message} ${inspect(l.fields, { depth: 8 })}`).join("\n"),
  };
}

/** An unsigned JWT, which the test broker's OAUTHBEARER validator accepts. */
function unsignedToken(subject: string, lifetimeS: number): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: "none" })}.${part({ sub: subject, iat: now - 60, exp: now + lifetimeS })}.`;
}

describe("producer over TLS and SASL (the secure test broker)", function () {
  this.timeout(120_000);
  let broker: SecureKafka;
  let admin: Kafka;
  const producers: Producer[] = [];

  before(() => {
    broker = useSecureKafka();
    admin = new Kafka({
      clientId: "secure-admin",
      brokers: [...broker.plaintextBrokers],
      logLevel: logLevel.NOTHING,
    });
  });
  afterEach(async () => {
    await Promise.all(producers.splice(0).map((p) => p.close({ timeoutMs: 1000 })));
  });
  after(() => broker.stop());

  async function topicsFor(prefix: string) {
    const topics = createTopicCatalogue({ prefix: `${uniqueName(prefix)}.` });
    const client = admin.admin();
    await client.connect();
    await client.createTopics({
      waitForLeaders: true,
      topics: topics.all.map((spec) => ({ topic: spec.name, numPartitions: 1, replicationFactor: 1 })),
    });
    await client.disconnect();
    return topics;
  }

  async function countOn(topic: string): Promise<number> {
    const client = admin.admin();
    await client.connect();
    try {
      const offsets = await client.fetchTopicOffsets(topic);
      return offsets.reduce((sum, p) => sum + Number(p.high), 0);
    } finally {
      await client.disconnect();
    }
  }

  function producer(
    brokers: readonly string[],
    security: KafkaSecurityOptions,
    logger: Logger,
    prefix: string,
  ) {
    const instance = createProducer({
      brokers,
      ...security,
      topics: createTopicCatalogue({ prefix }),
      spool: false,
      logger,
      retryBackoffMs: 100,
      maxRetryBackoffMs: 500,
    });
    producers.push(instance);
    return instance;
  }

  const cases: [string, (b: SecureKafka) => KafkaSecurityOptions][] = [
    [
      "SCRAM-SHA-256",
      (b) => ({
        tls: { caFile: b.caFile },
        sasl: { mechanism: "scram-sha-256", username: b.username, passwordFile: b.passwordFile },
      }),
    ],
    [
      "SCRAM-SHA-512",
      (b) => ({
        tls: { caFile: b.caFile },
        sasl: { mechanism: "scram-sha-512", username: b.username, password: b.password },
      }),
    ],
    [
      "PLAIN",
      (b) => ({
        tls: { caFile: b.caFile },
        sasl: { mechanism: "plain", username: b.username, password: b.password },
      }),
    ],
    [
      "OAUTHBEARER (token callback)",
      (b) => ({
        tls: { caFile: b.caFile },
        sasl: {
          mechanism: "oauthbearer",
          oauthBearerProvider: async () => ({ value: unsignedToken("agent", 3600) }),
        },
      }),
    ],
  ];
  for (const [name, security] of cases) {
    it(`delivers over SASL_SSL with ${name}`, async () => {
      const topics = await topicsFor("sec");
      const logger = recordingLogger();
      const p = producer(broker.saslSslBrokers, security(broker), logger, topics.prefix);
      for (let i = 0; i < 5; i++) p.emitEvent({ event_kind: "CUSTOM", name: `tool-${i}` });
      await p.flush({ timeoutMs: 20_000 });
      expect(await countOn(topics.topicFor("event"))).to.equal(5);
      expect(logger.text()).to.not.include(broker.password);
    });
  }

  it("delivers over mutual TLS with a client certificate", async () => {
    const topics = await topicsFor("mtls");
    const p = producer(
      broker.mtlsBrokers,
      { tls: { caFile: broker.caFile, certFile: broker.clientCertFile, keyFile: broker.clientKeyFile } },
      recordingLogger(),
      topics.prefix,
    );
    p.emitEvent({ event_kind: "CUSTOM", name: "tool" });
    await p.flush({ timeoutMs: 20_000 });
    expect(await countOn(topics.topicFor("event"))).to.equal(1);
  });

  const refusals: [
    string,
    (b: SecureKafka) => { brokers: readonly string[]; security: KafkaSecurityOptions },
    RegExp,
  ][] = [
    [
      "a wrong password",
      (b) => ({
        brokers: b.saslSslBrokers,
        security: {
          tls: { caFile: b.caFile },
          sasl: { mechanism: "scram-sha-256", username: b.username, password: `${b.password}-wrong` },
        },
      }),
      /check the user, the password/,
    ],
    [
      "an untrusted certificate",
      (b) => ({
        brokers: b.saslSslBrokers,
        security: {
          tls: true,
          sasl: { mechanism: "scram-sha-256", username: b.username, password: b.password },
        },
      }),
      /does not chain to a trusted CA/,
    ],
    [
      "a wrong hostname",
      (b) => ({
        brokers: b.saslSslBrokers.map((a) => a.replace("127.0.0.1", "localhost")),
        security: {
          tls: { caFile: b.caFile },
          sasl: { mechanism: "scram-sha-256", username: b.username, password: b.password },
        },
      }),
      /does not name the host/,
    ],
    [
      "a missing client certificate",
      (b) => ({ brokers: b.mtlsBrokers, security: { tls: { caFile: b.caFile } } }),
      /refused the client certificate/,
    ],
  ];
  for (const [name, setup, cause] of refusals) {
    it(`reports ${name} within seconds, naming the cause, without the secret in any log line`, async () => {
      const logger = recordingLogger();
      const { brokers, security } = setup(broker);
      const started = Date.now();
      const p = producer(brokers, security, logger, "refused.");
      p.emitEvent({ event_kind: "CUSTOM", name: "tool" });
      for (;;) {
        if (logger.lines.some((l) => l.level === "warn" && /kafka send failed/.test(l.message))) break;
        expect(Date.now() - started, "time to the first report").to.be.below(10_000);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const warning = logger.lines.find((l) => l.level === "warn" && /kafka send failed/.test(l.message))!;
      expect(String((warning.fields as { error?: unknown }).error)).to.match(cause);
      expect(p.stats().state).to.equal("degraded");
      await p.close({ timeoutMs: 500 });
      expect(logger.text()).to.not.include(broker.password);
      expect(inspect(p.config, { depth: 8, showHidden: false })).to.not.include(broker.password);
      expect(JSON.stringify(p.stats())).to.not.include(broker.password);
    });
  }
});
