import { RECORD_TABLES, isRecordTable } from "@tracehouse/clickhouse";
import { ConfigError } from "@tracehouse/schemas";
import type { Admin, Kafka } from "kafkajs";
import { resolveWorkerConfig } from "./config.js";
import type { WorkerOptions } from "./config.js";
import { recordChain } from "./internal/Chain.js";
import { Consumption } from "./internal/Consumption.js";
import { checkKafka, kafkaClientFor, kafkaError } from "./internal/kafka-client.js";
import { openSink } from "./internal/open-sink.js";
import { BoundedRange } from "./internal/steps/bounded-range.js";
import { WorkerMetrics } from "./internal/WorkerMetrics.js";

/** Where a replay starts or ends, in every partition: an offset, a time (epoch ms), or a log end. */
export type ReplayPosition =
  | { readonly offset: number }
  | { readonly timeMs: number }
  | { readonly earliest: true }
  | { readonly latest: true };

export interface ReplayOptions extends Omit<WorkerOptions, "healthPort" | "healthHost" | "fromBeginning"> {
  /** First record of the range, in every partition (an offset is clamped to what the log still holds). */
  readonly from: ReplayPosition;
  /** End of the range, exclusive: a time takes the first record at or after it. Default: the log end when the replay starts. */
  readonly to?: ReplayPosition;
  /** The replay's own consumer group. Default: `<clientId>-replay-<epoch ms>`. */
  readonly groupId?: string;
  /** Called every `progressIntervalMs` and once at the end. */
  readonly onProgress?: (progress: ReplayProgress) => void;
  /** Default: 1000. */
  readonly progressIntervalMs?: number;
}

export interface ReplayRange {
  readonly topic: string;
  readonly partition: number;
  /** First offset replayed. */
  readonly from: number;
  /** End offset, exclusive. */
  readonly to: number;
}

export interface ReplayProgress {
  /** Records of the range written and committed so far (dead-lettered and skipped included). */
  readonly records: number;
  readonly total: number;
  readonly recordsPerSecond: number;
  /** Seconds left at the current rate; null before there is a rate. */
  readonly etaSeconds: number | null;
  readonly partitionsDone: number;
  readonly partitions: number;
  readonly elapsedMs: number;
}

export interface ReplayResult {
  readonly groupId: string;
  readonly ranges: readonly ReplayRange[];
  /** Records in the range. */
  readonly records: number;
  readonly written: number;
  readonly deadLettered: number;
  readonly skipped: number;
  readonly durationMs: number;
}

/** Parses `--from`/`--to`: `earliest`, `latest`, an offset (digits), a duration ago (`90s`, `15m`, `2h`, `7d`) or an ISO 8601 time. */
export function parseReplayPosition(text: string, now: number = Date.now()): ReplayPosition | null {
  const value = text.trim();
  if (value === "earliest" || value === "beginning") return { earliest: true };
  if (value === "latest" || value === "end") return { latest: true };
  if (/^\d+$/.test(value)) {
    const offset = Number(value);
    return Number.isSafeInteger(offset) ? { offset } : null;
  }
  const ago = /^(\d+)(ms|s|m|h|d)$/.exec(value);
  if (ago !== null) {
    const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
      ago[2] as "ms" | "s" | "m" | "h" | "d"
    ];
    return { timeMs: now - Number(ago[1]) * unitMs };
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return null;
  const timeMs = Date.parse(value);
  return Number.isNaN(timeMs) ? null : { timeMs };
}

interface PartitionBounds {
  readonly partition: number;
  readonly low: number;
  readonly high: number;
}

async function resolveOffsets(
  admin: Admin,
  topic: string,
  bounds: readonly PartitionBounds[],
  position: ReplayPosition,
): Promise<Map<number, number>> {
  const offsets = new Map<number, number>();
  if ("timeMs" in position) {
    for (const { partition, offset } of await admin.fetchTopicOffsetsByTimestamp(topic, position.timeMs)) {
      offsets.set(partition, Number(offset));
    }
  }
  for (const { partition, low, high } of bounds) {
    let offset: number;
    if ("earliest" in position) offset = low;
    else if ("latest" in position) offset = high;
    else if ("offset" in position) offset = position.offset;
    else offset = offsets.get(partition) ?? high;
    offsets.set(partition, Math.min(Math.max(offset, low), high));
  }
  return offsets;
}

async function planRanges(kafka: Kafka, topics: readonly string[], from: ReplayPosition, to: ReplayPosition) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ranges: ReplayRange[] = [];
    for (const topic of topics) {
      const bounds = (await admin.fetchTopicOffsets(topic)).map(({ partition, low, high }) => ({
        partition,
        low: Number(low),
        high: Number(high),
      }));
      const starts = await resolveOffsets(admin, topic, bounds, from);
      const ends = await resolveOffsets(admin, topic, bounds, to);
      for (const { partition } of bounds) {
        const start = starts.get(partition)!;
        ranges.push({ topic, partition, from: start, to: Math.max(start, ends.get(partition)!) });
      }
    }
    return ranges.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Re-reads a range of the record topics with its own consumer group and writes it through the
 * worker's path (same decoding, rows, batching, dead letters). Rows are idempotent by event id,
 * so replaying a range twice changes no table's contents.
 */
export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const clientId = options.clientId ?? "tracehouse-worker";
  const config = resolveWorkerConfig({
    ...options,
    clientId,
    groupId: options.groupId ?? `${clientId}-replay-${Date.now()}`,
    fromBeginning: true,
    healthPort: null,
  });
  const progressIntervalMs = options.progressIntervalMs ?? 1000;
  if (!Number.isSafeInteger(progressIntervalMs) || progressIntervalMs < 1) {
    throw new ConfigError(
      `progressIntervalMs must be a positive integer, got ${String(options.progressIntervalMs)}`,
    );
  }
  const started = Date.now();
  const kafka = kafkaClientFor(config);
  await checkKafka(config);
  const ranges = await planRanges(kafka, config.topics, options.from, options.to ?? { latest: true }).catch(
    (error: unknown) => Promise.reject(kafkaError(error)),
  );
  const total = ranges.reduce((sum, range) => sum + (range.to - range.from), 0);
  config.logger.info("replay planned", {
    groupId: config.groupId,
    records: total,
    partitions: ranges.length,
    tables: config.tables,
  });

  const opened = await openSink(config);
  const metrics = new WorkerMetrics(config.registry);
  const range = new BoundedRange(ranges);
  const consumption = new Consumption({
    config,
    kafka,
    metrics,
    groupId: config.groupId,
    chain: recordChain(config, kafka, opened.sink, metrics, range),
  });

  let last = { at: started, records: 0 };
  const progress = (): ReplayProgress => {
    const { records, partitionsDone, partitions } = range.progress(consumption.partitions());
    const now = Date.now();
    const rate = now > last.at ? ((records - last.records) * 1000) / (now - last.at) : 0;
    const overall = now > started ? (records * 1000) / (now - started) : 0;
    const recordsPerSecond = rate > 0 ? rate : overall;
    last = { at: now, records };
    return {
      records,
      total,
      recordsPerSecond,
      etaSeconds: recordsPerSecond > 0 ? (total - records) / recordsPerSecond : records === total ? 0 : null,
      partitionsDone,
      partitions,
      elapsedMs: now - started,
    };
  };
  const timer = setInterval(() => options.onProgress?.(progress()), progressIntervalMs);
  try {
    if (!range.complete) {
      await consumption.start();
      await Promise.race([range.done, consumption.done]);
    }
    await consumption.stop();
    await consumption.done;
  } finally {
    clearInterval(timer);
    await opened.release();
  }
  options.onProgress?.(progress());
  const stats = consumption.stats();
  return {
    groupId: config.groupId,
    ranges,
    records: total,
    written: stats.written,
    deadLettered: stats.deadLettered,
    skipped: stats.skipped,
    durationMs: Date.now() - started,
  };
}

export interface RebuildOptions extends Omit<ReplayOptions, "tables" | "from"> {
  /** Default: the earliest record the topics still hold. */
  readonly from?: ReplayPosition;
}

/**
 * Empties one table and replays its records into it (from the earliest retained record by
 * default). The derived tables fed by its materialized views are idempotent aggregates, so they
 * are left as they are and receive the same facts again.
 */
export async function rebuild(table: string, options: RebuildOptions): Promise<ReplayResult> {
  if (!isRecordTable(table)) {
    throw new ConfigError(`cannot rebuild ${JSON.stringify(table)}: not one of ${RECORD_TABLES.join(", ")}`);
  }
  const config = resolveWorkerConfig({ ...options, tables: [table], healthPort: null });
  const opened = await openSink(config);
  try {
    await opened.sink.command(`TRUNCATE TABLE IF EXISTS ${opened.sink.database}.${table}`);
    config.logger.info("table truncated; replaying", { table, database: opened.sink.database });
    return await replay({
      ...options,
      tables: [table],
      from: options.from ?? { earliest: true },
      sink: opened.sink,
      clickhouse: undefined,
      createTables: false,
    });
  } finally {
    await opened.release();
  }
}
