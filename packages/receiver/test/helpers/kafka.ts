import { decodeRecord, createTopicCatalogue } from "@tracehouse/schemas";
import type { DecodedRecord, TopicCatalogue } from "@tracehouse/schemas";
import { testKafka, uniqueName, useKafka } from "@tracehouse/testkit";
import type { Admin, Kafka } from "kafkajs";
import { createReceiver } from "../../src/index.js";
import type { Receiver, ReceiverOptions } from "../../src/index.js";

export interface TopicFixture {
  readonly brokers: readonly string[];
  readonly kafka: Kafka;
  /** A catalogue whose topics exist, with a prefix no other test uses. */
  readonly topics: TopicCatalogue;
  /** Every record on the catalogue's topics so far (reads from the beginning until `count` or `timeoutMs`). */
  consume(count: number, timeoutMs?: number): Promise<DecodedRecord[]>;
  /** A receiver on ephemeral ports producing to these topics. */
  receiver(options?: Omit<ReceiverOptions, "brokers" | "producer">): Promise<Receiver>;
  cleanup(): Promise<void>;
}

/** Polls metadata until every partition of `topics` has a leader (createTopics' own wait races the broker). */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      if (metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)))
        return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline)
      throw new Error(`topics ${topics.join(", ")} have no leaders after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function topicFixture(): Promise<TopicFixture> {
  const { brokers } = await useKafka();
  const kafka = await testKafka();
  const topics = createTopicCatalogue({ prefix: `${uniqueName("receiver")}.` });
  const names = topics.all.map((spec) => spec.name);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: false,
    topics: names.map((topic) => ({ topic, numPartitions: 2, replicationFactor: 1 })),
  });
  await waitForLeaders(admin, names);
  const receivers: Receiver[] = [];
  return {
    brokers,
    kafka,
    topics,
    async consume(count, timeoutMs = 30_000) {
      const received: DecodedRecord[] = [];
      const consumer = kafka.consumer({ groupId: uniqueName("receiver_test"), maxWaitTimeInMs: 200 });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: names, fromBeginning: true });
        let done: () => void = () => undefined;
        const enough = new Promise<void>((resolve) => (done = resolve));
        await consumer.run({
          eachMessage: async ({ message }) => {
            received.push(decodeRecord(message.value as Buffer));
            if (received.length >= count) done();
          },
        });
        const timer = setTimeout(done, timeoutMs);
        await enough;
        clearTimeout(timer);
        await new Promise((resolve) => setTimeout(resolve, 500));
      } finally {
        await consumer.disconnect();
      }
      return received;
    },
    async receiver(options = {}) {
      const receiver = createReceiver({
        httpPort: 0,
        grpcPort: 0,
        ...options,
        brokers,
        producerOptions: { topics, spool: false, lingerMs: 2 },
      });
      receivers.push(receiver);
      await receiver.start();
      return receiver;
    },
    async cleanup() {
      await Promise.all(receivers.map((receiver) => receiver.stop()));
      try {
        await admin.deleteTopics({ topics: names });
      } finally {
        await admin.disconnect();
      }
    },
  };
}

/** Records of one type, as plain objects. */
export function ofType(records: readonly DecodedRecord[], type: string): Record<string, unknown>[] {
  return records.filter((r) => r.type === type).map((r) => r.record as unknown as Record<string, unknown>);
}
