import { expect } from "chai";
import { Kafka, logLevel, type Consumer, type Producer } from "kafkajs";
import {
  localKafkaControl,
  testKafka,
  testTopics,
  uniqueName,
  useKafka,
  type TestTopics,
} from "../src/index.js";

describe("Kafka broker smoke", () => {
  let topics: TestTopics;
  let producer: Producer;
  let consumer: Consumer;

  before(async () => {
    const service = await useKafka();
    expect(service.brokers).to.have.length.greaterThan(0);
    topics = await testTopics();
    producer = topics.kafka.producer({ idempotent: true });
    consumer = topics.kafka.consumer({ groupId: uniqueName("smoke") });
    await Promise.all([producer.connect(), consumer.connect()]);
  });

  after(async () => {
    await Promise.allSettled([producer.disconnect(), consumer.disconnect()]);
    await topics.cleanup();
  });

  it("round-trips keyed records with headers through the real broker", async () => {
    const topic = await topics.create("smoke", { numPartitions: 2 });
    const sent = Array.from({ length: 5 }, (_, i) => ({
      key: `trace-${i % 2}`,
      value: `value-${i}`,
      headers: { traceparent: `00-${"ab".repeat(16)}-${"0".repeat(15)}${i + 1}-01`, attempt: String(i) },
    }));
    await producer.send({ topic, acks: -1, messages: sent });

    const received: { key: string; value: string; partition: number; headers: Record<string, string> }[] = [];
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message, partition }) => {
          received.push({
            key: message.key?.toString() ?? "",
            value: message.value?.toString() ?? "",
            partition,
            headers: Object.fromEntries(
              Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
            ),
          });
          if (received.length === sent.length) resolve();
        },
      });
    });
    await done;

    expect(received.map((r) => r.value).sort()).to.deep.equal(sent.map((s) => s.value).sort());
    for (const message of received) {
      const original = sent.find((s) => s.value === message.value);
      expect(message.key).to.equal(original?.key);
      expect(message.headers).to.deep.equal(original?.headers);
    }
    const partitionsByKey = new Map<string, Set<number>>();
    for (const r of received)
      partitionsByKey.set(r.key, (partitionsByKey.get(r.key) ?? new Set()).add(r.partition));
    for (const partitions of partitionsByKey.values()) expect(partitions.size).to.equal(1);
  });
});

describe("local broker control", () => {
  it("a stopped broker refuses clients and a restarted one serves them again", async () => {
    const control = await localKafkaControl();
    const kafka = await testKafka();
    control.kill();
    const admin = new Kafka({
      clientId: "down",
      brokers: [...(await useKafka()).brokers],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 500,
      retry: { retries: 0 },
    }).admin();
    let refused: unknown;
    try {
      await admin.connect();
    } catch (error) {
      refused = error;
    }
    expect(refused, "a killed broker must refuse connections").to.be.instanceOf(Error);
    control.start();
    const up = kafka.admin();
    await up.connect();
    expect(await up.listTopics()).to.be.an("array");
    await up.disconnect();
  });
});
