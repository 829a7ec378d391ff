import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { decodeRecord, createTopicCatalogue, recordTypeFromContentType } from "@tracehouse/schemas";
import type { DecodedRecord, RecordType, TopicCatalogue } from "@tracehouse/schemas";
import { readTopics, testKafka, uniqueName, useKafka, waitForLeaders } from "@tracehouse/testkit";
import type { Kafka } from "kafkajs";

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
  for (const topic of schemasTopic ? [...names, topics.schemas] : names) await waitForLeaders(admin, topic);
  return {
    brokers,
    kafka,
    topics,
    async consume(count, timeoutMs = 30_000) {
      const read = await readTopics(kafka, names, count, timeoutMs);
      return read.map(({ topic, partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) {
          if (value !== undefined) headers[name] = value.toString();
        }
        return {
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? "",
          headers,
          decoded: decodeRecord(message.value as Buffer),
        };
      });
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

export interface SpoolDir {
  readonly dir: string;
  remove(): void;
}

/** A fresh spool directory, removed by the returned function. */
export function tempSpoolDir(): SpoolDir {
  const dir = mkdtempSync(path.join(tmpdir(), "tracehouse-producer-test-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A topic fixture and a spool directory made before each test of the calling suite and removed after it. */
export function useTopicsAndSpool(partitions?: number): {
  readonly fixture: TopicFixture;
  readonly spool: SpoolDir;
} {
  const current: { fixture?: TopicFixture; spool?: SpoolDir } = {};
  beforeEach(async () => {
    current.fixture = await topicFixture(partitions);
    current.spool = tempSpoolDir();
  });
  afterEach(async () => {
    await current.fixture?.cleanup();
    current.spool?.remove();
  });
  return {
    get fixture() {
      return current.fixture!;
    },
    get spool() {
      return current.spool!;
    },
  };
}

/** The record type a received message's content-type header names. */
export function contentTypeOfReceived(message: Received): string | null {
  return recordTypeFromContentType(message.headers["content-type"]);
}
