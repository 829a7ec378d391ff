import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { decodeRecord, createTopicCatalogue, recordTypeFromContentType } from "@tracehouse/schemas";
import type { DecodedRecord, RecordType, TopicCatalogue } from "@tracehouse/schemas";
import { testKafka, uniqueName, useKafka } from "@tracehouse/testkit";
import type { Admin, Kafka } from "kafkajs";

/** One consumed Kafka message, decoded. */
export interface Received {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly decoded: DecodedRecord;
}

export interface TopicFixture {
  readonly brokers: readonly string[];
  readonly kafka: Kafka;
  /** A catalogue whose six topics exist, with a prefix no other test uses. */
  readonly topics: TopicCatalogue;
  /** Reads every topic of the catalogue from the beginning until `count` messages arrived or `timeoutMs` passed. */
  consume(count: number, timeoutMs?: number): Promise<Received[]>;
  cleanup(): Promise<void>;
}

/**
 * Polls metadata until every partition of `topics` has a leader: kafkajs's own wait gives up when
 * the broker still says "unknown topic" right after creating (or just after deleting) topics.
 */
async function waitForLeaders(admin: Admin, topics: readonly string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
      const partitions = metadata.topics.flatMap((topic) => topic.partitions);
      if (metadata.topics.length === topics.length && partitions.every((p) => p.leader >= 0)) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline)
      throw new Error(`topics without leaders after ${timeoutMs} ms: ${topics.join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface TopicFixtureOptions {
  /** Default: true. */
  readonly schemasTopic?: boolean;
  /** Topic settings per record type, set when the topic is created. Default: none. */
  readonly configs?: Partial<Record<RecordType, readonly { name: string; value: string }[]>>;
}

/** Record topics (and, unless `schemasTopic` is false, the schemas topic) with a unique prefix. */
export async function topicFixture(
  partitions = 3,
  { schemasTopic = true, configs = {} }: TopicFixtureOptions = {},
): Promise<TopicFixture> {
  const { brokers } = await useKafka();
  const kafka = await testKafka();
  const topics = createTopicCatalogue({ prefix: `${uniqueName("producer")}.` });
  const records = topics.all.filter((spec) => spec.recordType !== null);
  const names = records.map((spec) => spec.name);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: false,
    topics: [
      ...records.map((spec) => ({
        topic: spec.name,
        numPartitions: partitions,
        replicationFactor: 1,
        configEntries: [...(configs[spec.recordType as RecordType] ?? [])],
      })),
      ...(schemasTopic
        ? [
            {
              topic: topics.schemas,
              numPartitions: 1,
              replicationFactor: 1,
              configEntries: [{ name: "cleanup.policy", value: "compact" }],
            },
          ]
        : []),
    ],
  });
  await waitForLeaders(admin, schemasTopic ? [...names, topics.schemas] : names);
  return {
    brokers,
    kafka,
    topics,
    async consume(count, timeoutMs = 30_000) {
      const received: Received[] = [];
      const consumer = kafka.consumer({ groupId: uniqueName("producer_test"), maxWaitTimeInMs: 200 });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: names, fromBeginning: true });
        let done: () => void = () => undefined;
        const enough = new Promise<void>((resolve) => (done = resolve));
        await consumer.run({
          eachMessage: async ({ topic, partition, message }) => {
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(message.headers ?? {})) {
              if (value !== undefined) headers[name] = value.toString();
            }
            received.push({
              topic,
              partition,
              offset: message.offset,
              key: message.key?.toString() ?? "",
              headers,
              decoded: decodeRecord(message.value as Buffer),
            });
            if (received.length >= count) done();
          },
        });
        const timer = setTimeout(done, timeoutMs);
        await enough;
        clearTimeout(timer);
        // a little longer, so duplicates beyond `count` would be seen
        await new Promise((resolve) => setTimeout(resolve, 500));
      } finally {
        await consumer.disconnect();
      }
      return received;
    },
    async cleanup() {
      try {
        await admin.deleteTopics({ topics: schemasTopic ? [...names, topics.schemas] : names });
      } finally {
        await admin.disconnect();
      }
    },
  };
}

/** A fresh spool directory, removed by the returned function. */
export function tempSpoolDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), "tracehouse-producer-test-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The record type a received message's content-type header names. */
export function contentTypeOfReceived(message: Received): string | null {
  return recordTypeFromContentType(message.headers["content-type"]);
}
