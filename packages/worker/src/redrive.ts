import { randomUUID } from "node:crypto";
import type { Sink } from "@tracehouse/clickhouse";
import { ConfigError } from "@tracehouse/schemas";
import type { Admin, Consumer, IHeaders, Kafka, KafkaMessage } from "kafkajs";
import { resolveWorkerConfig } from "./config.js";
import type { WorkerConfig, WorkerOptions } from "./config.js";
import { DeadLetterValue, parseDeadLetterHeaders } from "./dead-letter.js";
import type { DeadLetterInfo } from "./dead-letter.js";
import { kafkaClientFor } from "./internal/kafka-client.js";
import { openSink } from "./internal/open-sink.js";
import { Pipeline } from "./internal/Pipeline.js";
import type { DeadLetterSink } from "./internal/Pipeline.js";
import { addressKey, readOriginals } from "./internal/read-originals.js";
import type { RecordAddress } from "./internal/read-originals.js";
import { WorkerMetrics } from "./internal/WorkerMetrics.js";
import { WriterSchemaResolver } from "./internal/WriterSchemaResolver.js";
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

/** Headers of the dead letter that are not the original record's. */
const DEAD_LETTER_HEADER_PREFIX = "tracehouse-dlq-";
const READ_ORIGINALS_TIMEOUT_MS = 30_000;

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

function originalHeaders(headers: IHeaders | undefined): IHeaders {
  const kept: IHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!name.startsWith(DEAD_LETTER_HEADER_PREFIX)) kept[name] = value;
  }
  return kept;
}

function sourceAddress(info: DeadLetterInfo): RecordAddress | null {
  const offset = Number(info.offset);
  return Number.isSafeInteger(offset) ? { topic: info.topic, partition: info.partition, offset } : null;
}

/** Selects the dead letters to redrive and turns each back into its original record (read from its topic when the letter holds none). */
class LetterSelector {
  skipped = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly reasons: ReadonlySet<string> | null,
    private readonly sinceMs: number | undefined,
    private readonly untilMs: number | undefined,
  ) {}

  async originals(letters: readonly KafkaMessage[]): Promise<KafkaMessage[]> {
    const selected: { letter: KafkaMessage; info: DeadLetterInfo }[] = [];
    for (const letter of letters) {
      const info = parseDeadLetterHeaders(letter.headers);
      const time = Number(letter.timestamp);
      if (
        info === null ||
        (this.reasons !== null && !this.reasons.has(info.reason)) ||
        (this.sinceMs !== undefined && time < this.sinceMs) ||
        (this.untilMs !== undefined && time >= this.untilMs)
      ) {
        this.skipped++;
        continue;
      }
      selected.push({ letter, info });
    }
    const pointers = selected
      .filter(({ info }) => info.value !== DeadLetterValue.Original)
      .map(({ info }) => sourceAddress(info))
      .filter((address): address is RecordAddress => address !== null);
    const fetched =
      pointers.length === 0
        ? new Map()
        : await readOriginals(this.kafka, pointers, READ_ORIGINALS_TIMEOUT_MS);
    const originals: KafkaMessage[] = [];
    for (const { letter, info } of selected) {
      let original: KafkaMessage | undefined = letter;
      if (info.value !== DeadLetterValue.Original) {
        const address = sourceAddress(info);
        original = address === null ? undefined : fetched.get(addressKey(address));
      }
      if (original === undefined) {
        this.skipped++;
        continue;
      }
      originals.push({
        ...original,
        offset: letter.offset,
        headers: originalHeaders(original.headers),
      } as KafkaMessage);
    }
    return originals;
  }
}

function progressOf(
  ranges: readonly ReplayRange[],
  done: ReadonlyMap<number, number>,
  started: number,
): ReplayProgress {
  const total = ranges.reduce((sum, range) => sum + (range.to - range.from), 0);
  let records = 0;
  let partitionsDone = 0;
  for (const range of ranges) {
    const reached = Math.min(done.get(range.partition) ?? range.from, range.to);
    records += Math.max(0, reached - range.from);
    if (reached >= range.to) partitionsDone++;
  }
  const elapsedMs = Date.now() - started;
  const recordsPerSecond = elapsedMs > 0 ? (records * 1000) / elapsedMs : 0;
  return {
    records,
    total,
    recordsPerSecond,
    etaSeconds: recordsPerSecond > 0 ? (total - records) / recordsPerSecond : records === total ? 0 : null,
    partitionsDone,
    partitions: ranges.length,
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

  const done = new Map<number, number>();
  const report = (): void => options.onProgress?.(progressOf(ranges, done, started));
  const selector = new LetterSelector(kafka, reasons, sinceMs, untilMs);
  const opened = await openSink(config);
  const timer = setInterval(report, progressIntervalMs);
  let stats;
  try {
    stats = await run(config, kafka, opened.sink, ranges, selector, done);
  } finally {
    clearInterval(timer);
    await opened.release();
  }
  report();
  return {
    ranges,
    read,
    written: stats.written,
    stillDead: stats.deadLettered,
    skipped: selector.skipped + stats.skipped,
    durationMs: Date.now() - started,
  };
}

async function run(
  config: WorkerConfig,
  kafka: Kafka,
  sink: Sink,
  ranges: readonly ReplayRange[],
  selector: LetterSelector,
  done: Map<number, number>,
) {
  const topic = config.deadLetterTopic;
  const pending = new Set(ranges.filter((r) => r.to > r.from).map((r) => r.partition));
  const ends = new Map(ranges.map((r) => [r.partition, r.to]));
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const complete = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));
  if (pending.size === 0) finish();
  const consumer: Consumer = kafka.consumer({
    groupId: config.groupId,
    maxBytesPerPartition: config.maxBytesPerPartition,
    maxBytes: config.maxBytesPerFetch,
    maxWaitTimeInMs: 250,
    allowAutoTopicCreation: false,
  });
  const stillDead: DeadLetterSink = { topic, send: async () => undefined };
  const pipeline = new Pipeline(
    { ...config, batchPerPartition: true },
    sink,
    stillDead,
    new WorkerMetrics(config.registry),
    config.logger,
    {
      pause: (partitions) => consumer.pause([...partitions]),
      resume: (partitions) =>
        consumer.resume(
          partitions.map((p) => ({ topic: p.topic, partitions: p.partitions.filter((n) => pending.has(n)) })),
        ),
      commit: async (offsets) => {
        for (const { partition, offset } of offsets) {
          done.set(partition, Number(offset));
          if (Number(offset) >= (ends.get(partition) ?? 0) && pending.delete(partition) && pending.size === 0)
            finish();
        }
      },
      fail,
    },
    config.schemasTopic === null
      ? null
      : new WriterSchemaResolver({ kafka, topic: config.schemasTopic, logger: config.logger }),
  );
  try {
    if (pending.size > 0) {
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        const partitions = payload.memberAssignment[topic] ?? [];
        for (const partition of partitions) {
          const range = ranges.find((r) => r.partition === partition);
          if (range !== undefined && pending.has(partition))
            consumer.seek({ topic, partition, offset: String(range.from) });
        }
        const idle = partitions.filter((partition) => !pending.has(partition));
        if (idle.length > 0) consumer.pause([{ topic, partitions: idle }]);
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) fail(payload.error);
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const end = ends.get(batch.partition) ?? 0;
          const inRange = batch.messages.filter((m) => Number(m.offset) < end);
          const endOffset = Math.min(Number(batch.lastOffset()) + 1, end);
          await pipeline.accept({
            topic,
            partition: batch.partition,
            messages: await selector.originals(inRange),
            endOffset,
            highWatermark: Number(batch.highWatermark),
          });
          if (endOffset >= end) {
            consumer.pause([{ topic, partitions: [batch.partition] }]);
            pipeline.sealPartition(topic, batch.partition);
          }
        },
      });
    }
    await complete;
    await pipeline.drain();
    return pipeline.stats();
  } finally {
    pipeline.close();
    await consumer.disconnect().catch(() => undefined);
    const admin = kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteGroups([config.groupId]))
      .catch(() => undefined)
      .finally(() => admin.disconnect());
  }
}
