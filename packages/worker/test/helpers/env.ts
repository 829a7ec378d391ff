import { ClickHouseTraceSchema, createSink } from "@tracehouse/clickhouse";
import type { Sink } from "@tracehouse/clickhouse";
import { RECORD_TYPES } from "@tracehouse/schemas";
import { embeddedDataDir, readTopics, testKafka, testTopics, uniqueName } from "@tracehouse/testkit";
import type { TestTopics } from "@tracehouse/testkit";
import type { Kafka, KafkaMessage } from "kafkajs";
import type { TopicsByType } from "./records.js";

/** A sink on the process's embedded-engine data directory (chdb binds one per process). */
export function processSink(database: string): Sink {
  return createSink({ dataDir: embeddedDataDir(), database });
}

export interface WorkerTestEnv {
  readonly kafka: Kafka;
  readonly topics: TopicsByType;
  readonly topicList: readonly string[];
  readonly dlq: string;
  readonly database: string;
  readonly sink: Sink;
  readonly admin: TestTopics;
  cleanup(): Promise<void>;
}

/** Fresh record topics, dead-letter topic and ClickHouse database with the tracehouse tables. */
export async function setupEnv(
  options: { partitions?: number; database?: string } = {},
): Promise<WorkerTestEnv> {
  const admin = await testTopics();
  const partitions = options.partitions ?? 3;
  const entries = await Promise.all(
    RECORD_TYPES.map(
      async (type) => [type, await admin.create(`wk_${type}`, { numPartitions: partitions })] as const,
    ),
  );
  const topics = Object.fromEntries(entries) as unknown as TopicsByType;
  const dlq = await admin.create("wk_dlq", { numPartitions: 1 });
  const database = options.database ?? uniqueName("wk");
  const sink = processSink(database);
  await new ClickHouseTraceSchema(sink, { ttlDays: null }).createTables();
  return {
    kafka: admin.kafka,
    topics,
    topicList: entries.map(([, topic]) => topic),
    dlq,
    database,
    sink,
    admin,
    async cleanup() {
      await admin.cleanup();
      await sink.command(`DROP DATABASE IF EXISTS ${database} SYNC`).catch(() => undefined);
      await sink.close();
    },
  };
}

export async function waitFor<T>(
  probe: () => Promise<T | null | undefined | false>,
  { timeoutMs = 30_000, intervalMs = 100, what = "condition" } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Distinct event ids of a table, read with FINAL. */
export async function eventIds(sink: Sink, table: string): Promise<string[]> {
  const rows = await sink.query<{ event_id: string }>(
    `SELECT event_id FROM ${sink.database}.${table} FINAL ORDER BY event_id`,
  );
  return rows.map((row) => row.event_id);
}

export async function countRows(sink: Sink, table: string, final = true): Promise<number> {
  const rows = await sink.query<{ n: number }>(
    `SELECT count() AS n FROM ${sink.database}.${table}${final ? " FINAL" : ""}`,
  );
  return Number(rows[0]?.n ?? 0);
}

/** Reads a topic from the beginning until `count` messages arrived (or the timeout). */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 20_000,
): Promise<KafkaMessage[]> {
  const read = await readTopics(kafka, [topic], count, timeoutMs);
  return read.map(({ message }) => message);
}

/** The group's committed offset of partition 0 of `topic` (-1 when none). */
export async function committedOffset(groupId: string, topic: string): Promise<number> {
  const admin = (await testKafka()).admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Number(entry?.partitions[0]?.offset ?? -1);
  } finally {
    await admin.disconnect();
  }
}
