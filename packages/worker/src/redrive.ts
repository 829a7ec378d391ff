import { randomUUID } from "node:crypto";
import { ConfigError } from "@tracehouse/schemas";
import type { Admin } from "kafkajs";
import { resolveWorkerConfig } from "./config.js";
import type { WorkerConfig, WorkerOptions } from "./config.js";
import { Chain, writerSchemasFor } from "./internal/Chain.js";
import { Consumption } from "./internal/Consumption.js";
import { deleteGroup, kafkaClientFor } from "./internal/kafka-client.js";
import { openSink } from "./internal/open-sink.js";
import { BoundedRange } from "./internal/steps/bounded-range.js";
import type { RangeProgress } from "./internal/steps/bounded-range.js";
import { SelectLetters } from "./internal/steps/select-letters.js";
import { WorkerMetrics } from "./internal/WorkerMetrics.js";
import type { ReplayProgress, ReplayRange } from "./replay.js";

export interface RedriveOptions extends Omit<
  WorkerOptions,
  "healthPort" | "healthHost" | "fromBeginning" | "topics" | "groupId"
> {
  /** Dead-letter reasons to redrive (e.g. `unknown_fingerprint`). Default: every reason. */
  readonly reasons?: readonly string[];
  /** Only dead letters written at or after this time (epoch ms). Default: the oldest the topic holds. */
  readonly sinceMs?: number;
  /** Only dead letters written before this time (epoch ms). Default: the end of the topic at start. */
  readonly untilMs?: number;
  /** Called every `progressIntervalMs` and once at the end; `records` counts dead letters handled. */
  readonly onProgress?: (progress: ReplayProgress) => void;
  /** Default: 1000. */
  readonly progressIntervalMs?: number;
}

export interface RedriveResult {
  /** Dead-letter topic ranges read. */
  readonly ranges: readonly ReplayRange[];
  /** Dead letters in the ranges. */
  readonly read: number;
  /** Records written to their table again (rows already stored are deduplicated by event id). */
  readonly written: number;
  /** Records that failed again; they stay in the dead-letter topic and are not dead-lettered twice. */
  readonly stillDead: number;
  /** Dead letters not selected (reason, time), whose original is gone, or whose table is not written. */
  readonly skipped: number;
  readonly durationMs: number;
}

async function planRanges(admin: Admin, topic: string, sinceMs?: number, untilMs?: number) {
  const bounds = await admin.fetchTopicOffsets(topic);
  const at = async (timeMs: number | undefined, fallback: "low" | "high") => {
    const offsets = new Map(bounds.map((b) => [b.partition, Number(b[fallback])]));
    if (timeMs === undefined) return offsets;
    for (const { partition, offset } of await admin.fetchTopicOffsetsByTimestamp(topic, timeMs)) {
      const bound = bounds.find((b) => b.partition === partition)!;
      const value = Number(offset);
      offsets.set(partition, value < 0 ? Number(bound.high) : Math.max(value, Number(bound.low)));
    }
    return offsets;
  };
  const starts = await at(sinceMs, "low");
  const ends = await at(untilMs, "high");
  return bounds
    .map(({ partition }): ReplayRange => {
      const from = starts.get(partition)!;
      return { topic, partition, from, to: Math.max(from, ends.get(partition)!) };
    })
    .sort((a, b) => a.partition - b.partition);
}

function progressOf(range: RangeProgress, started: number): ReplayProgress {
  const { records, total } = range;
  const elapsedMs = Date.now() - started;
  const recordsPerSecond = elapsedMs > 0 ? (records * 1000) / elapsedMs : 0;
  return {
    records,
    total,
    recordsPerSecond,
    etaSeconds: recordsPerSecond > 0 ? (total - records) / recordsPerSecond : records === total ? 0 : null,
    partitionsDone: range.partitionsDone,
    partitions: range.partitions,
    elapsedMs,
  };
}

/**
 * Reads dead letters back from the dead-letter topic (filtered by reason and by when they were
 * dead-lettered) and writes their original records through the worker's chain again: decode
 * (resolving writer schemas from the schemas topic), project, batch, insert. Meant for after an
 * upgrade. Records that fail again are counted, not dead-lettered again; rows are deduplicated by
 * event id (and the batches are the same, so ClickHouse drops a repeated insert), so running it
 * twice changes nothing.
 */
export async function redrive(options: RedriveOptions): Promise<RedriveResult> {
  const clientId = options.clientId ?? "tracehouse-worker";
  const config: WorkerConfig = resolveWorkerConfig({
    ...options,
    clientId,
    groupId: `${clientId}-redrive-${randomUUID()}`,
    healthPort: null,
    maxDeadLetterRatio: 1,
  });
  const progressIntervalMs = options.progressIntervalMs ?? 1000;
  if (!Number.isSafeInteger(progressIntervalMs) || progressIntervalMs < 1) {
    throw new ConfigError(`progressIntervalMs must be a positive integer, got ${String(progressIntervalMs)}`);
  }
  const { sinceMs, untilMs } = options;
  if (sinceMs !== undefined && untilMs !== undefined && untilMs <= sinceMs) {
    throw new ConfigError("the redrive's time range is empty: until is not after since");
  }
  const reasons =
    options.reasons === undefined || options.reasons.length === 0 ? null : new Set(options.reasons);
  const started = Date.now();
  const kafka = kafkaClientFor(config);
  const topic = config.deadLetterTopic;
  const admin = kafka.admin();
  await admin.connect();
  let ranges: ReplayRange[];
  try {
    ranges = await planRanges(admin, topic, sinceMs, untilMs);
  } finally {
    await admin.disconnect();
  }
  const read = ranges.reduce((sum, range) => sum + (range.to - range.from), 0);
  config.logger.info("redrive planned", { topic, deadLetters: read, reasons: options.reasons ?? "all" });

  const range = new BoundedRange(ranges);
  const opened = await openSink(config);
  const metrics = new WorkerMetrics(config.registry);
  let selector = null as SelectLetters | null;
  const consumption = new Consumption({
    config: { ...config, topics: [topic], fromBeginning: true },
    kafka,
    metrics,
    groupId: config.groupId,
    chain: (controls) =>
      new Chain(
        {
          config,
          sink: opened.sink,
          metrics,
          logger: config.logger,
          range,
          // Records that fail again are counted as still dead, not dead-lettered a second time.
          deadLetters: { topic, send: async () => undefined },
          writerSchemas: writerSchemasFor(config, kafka),
          front: (next) => (selector = new SelectLetters(kafka, { reasons, sinceMs, untilMs }, next)),
        },
        controls,
      ),
  });
  const report = (): void =>
    options.onProgress?.(progressOf(range.progress(consumption.partitions()), started));
  const timer = setInterval(report, progressIntervalMs);
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
    await deleteGroup(kafka, config.groupId);
  }
  report();
  const stats = consumption.stats();
  return {
    ranges,
    read,
    written: stats.written,
    stillDead: stats.deadLettered,
    skipped: (selector?.skipped ?? 0) + stats.skipped,
    durationMs: Date.now() - started,
  };
}
