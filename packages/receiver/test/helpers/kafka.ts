import { decodeRecord, createTopicCatalogue } from "@tracehouse/schemas";
import type { DecodedRecord, TopicCatalogue } from "@tracehouse/schemas";
import { readTopics, testKafka, uniqueName, useKafka, waitForLeaders } from "@tracehouse/testkit";
import type { Kafka } from "kafkajs";
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
  for (const topic of names) await waitForLeaders(admin, topic);
  // the schemas topic holds schemas, not records
  const recordTopics = topics.all.filter((spec) => spec.recordType !== null).map((spec) => spec.name);
  const receivers: Receiver[] = [];
  return {
    brokers,
    kafka,
    topics,
    async consume(count, timeoutMs = 30_000) {
      const read = await readTopics(kafka, recordTopics, count, timeoutMs);
      return read.map(({ message }) => decodeRecord(message.value as Buffer));
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
