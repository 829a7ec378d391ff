import { tmpdir } from "node:os";
import path from "node:path";
import {
  ConfigError,
  createTopicCatalogue,
  integerOption,
  RECORD_TYPES,
  RecordType,
  resolveKafkaSecurity,
} from "@tracehouse/schemas";
import type { KafkaSecurity, KafkaSecurityOptions, Logger, TopicCatalogue } from "@tracehouse/schemas";
import { defaultContextManager } from "@tracehouse/context";
import type { ContextManager } from "@tracehouse/context";
import type { Kafka } from "kafkajs";
import type { ProducerStats } from "./stats.js";
import { stderrLogger } from "./stderr-logger.js";

/** Batch compression on the wire. `lz4` registers its codec itself (`lz4-napi`); `zstd` needs one registered with kafkajs by the application. */
export const Compression = { None: "none", Gzip: "gzip", Lz4: "lz4", Zstd: "zstd" } as const;
export type Compression = (typeof Compression)[keyof typeof Compression];

/** What `emit` does when the in-memory queue is full. */
export const BackpressurePolicy = {
  /** Move the queue and the record to the on-disk spool; the caller never waits. */
  Spill: "spill",
  /** Drop the record and count it (`dropped.queue_full`). */
  Drop: "drop",
} as const;
export type BackpressurePolicy = (typeof BackpressurePolicy)[keyof typeof BackpressurePolicy];

/** When spool writes are forced to disk. */
export const FsyncPolicy = {
  /** After every append: survives power loss, costs a disk flush per spill. */
  Always: "always",
  /** Every `fsyncIntervalMs`: survives a process crash at once, power loss up to the interval. */
  Interval: "interval",
  /** Left to the operating system: survives a process crash, not power loss. */
  Never: "never",
} as const;
export type FsyncPolicy = (typeof FsyncPolicy)[keyof typeof FsyncPolicy];

export interface SpoolOptions {
  /**
   * Directory of the segment files, locked by one live producer: a second producer on the
   * same directory throws. Default: a shared base, `<os tmpdir>/tracehouse-spool/<clientId>`,
   * in which each producer locks the first free numbered slot (`0`, `1`, …): processes with
   * the same client id each get their own, and a restarted process takes over (and sends)
   * what a dead one left in its slot.
   */
  readonly dir?: string;
  /** Bound on the spool's size on disk; records beyond it are dropped and counted. Default: 256 MiB. */
  readonly maxBytes?: number;
  /** A segment file is closed and a new one started past this size. Default: 4 MiB. */
  readonly segmentBytes?: number;
  /** Default: `interval`. */
  readonly fsync?: FsyncPolicy;
  /** Only with `fsync: "interval"`. Default: 1000. */
  readonly fsyncIntervalMs?: number;
  /**
   * Bound on records (by encoded size) handed to the spool's background writer and not yet
   * on disk; past it, a record that would spill is dropped and counted (`dropped.spill_backlog`).
   * Default: `maxQueueBytes`.
   */
  readonly maxPendingBytes?: number;
}

export interface SamplingOptions {
  /** Fraction of traces kept, 0..1, for every record type without its own rate. Default: 1. */
  readonly rate?: number;
  /** Per-record-type rates, 0..1. `error` cannot be sampled: errors are always kept. Default: none. */
  readonly rates?: Readonly<Partial<Record<RecordType, number>>>;
  /** Drop the records of a trace whose context says not sampled (W3C `sampled` flag). Default: true. */
  readonly honourSampledFlag?: boolean;
}

/** Also takes the shared Kafka security options `tls` and `sasl` (see {@link KafkaSecurityOptions}). */
export interface ProducerOptions extends KafkaSecurityOptions {
  /** Kafka bootstrap brokers, `host:port`. Required unless `kafka` is given. */
  readonly brokers?: readonly string[];
  /** An existing kafkajs client to produce with, instead of `brokers`. Default: none. */
  readonly kafka?: Kafka;
  /** Default: `"tracehouse-producer"`. */
  readonly clientId?: string;
  /** Topic names per record type. Default: `createTopicCatalogue()` (prefix `tracehouse.`). */
  readonly topics?: TopicCatalogue;
  /** Default: `gzip` (at zlib level 2 unless the application registered its own gzip codec with kafkajs). */
  readonly compression?: Compression;
  /** Bound on queued records. Default: 100000. */
  readonly maxQueueRecords?: number;
  /** Bound on queued encoded bytes. Default: 64 MiB. */
  readonly maxQueueBytes?: number;
  /** A batch is sent once it holds this many records. Default: 10000. */
  readonly maxBatchRecords?: number;
  /** A batch is sent once it holds this many encoded bytes. Default: 1 MiB. */
  readonly maxBatchBytes?: number;
  /** How long the first queued record waits for others before a batch is sent. Default: 5. */
  readonly lingerMs?: number;
  /** Larger encoded records are dropped and counted (`dropped.oversize`). Default: 900000, at most `maxBatchBytes`. */
  readonly maxRecordBytes?: number;
  /** Default: `spill` (or `drop` when the spool is disabled). */
  readonly backpressure?: BackpressurePolicy;
  /** On-disk spool for broker outages and overflow; `false` disables it. Default: enabled, see {@link SpoolOptions}. */
  readonly spool?: SpoolOptions | false;
  /** Head-based sampling per trace. Default: keep everything. */
  readonly sampling?: SamplingOptions;
  /**
   * Idempotent Kafka producers a batch is sent over in parallel, each owning a disjoint set of
   * partitions (partition p goes to lane p mod sendLanes), so the order within a partition is
   * kept; a batch is done when every lane's partitions acknowledged it. From 1 to 16. Default: 4.
   */
  readonly sendLanes?: number;
  /** Broker acknowledgement timeout of one send. Default: 30000. */
  readonly sendTimeoutMs?: number;
  /** TCP connect timeout. Default: 3000. */
  readonly connectionTimeoutMs?: number;
  /** Retries of one send inside kafkajs (at least 1: the idempotent producer needs them) before the batch is spooled and retried by the producer. Default: 2. */
  readonly sendRetries?: number;
  /** Ceiling of the first wait before the producer retries a failed batch; doubles up to `maxRetryBackoffMs`, each wait a random time below it (full jitter). Default: 200. */
  readonly retryBackoffMs?: number;
  /** Default: 5000. */
  readonly maxRetryBackoffMs?: number;
  /** Default time limit of `close()`. Default: 10000. */
  readonly closeTimeoutMs?: number;
  /** Where `emit` finds the current trace context. Default: the process-wide AsyncLocalStorage manager. */
  readonly contextManager?: ContextManager;
  /** Default: `stderrLogger`: warnings and errors (a producer that cannot deliver says so, once) on stderr; debug and info dropped. */
  readonly logger?: Logger;
  /** Create the catalogue's missing topics (see `ensureTopics`) before the first send. Default: false. */
  readonly ensureTopics?: boolean;
  /** Called with a snapshot of the counters every `statsIntervalMs`. Default: none. */
  readonly onStats?: (stats: ProducerStats) => void;
  /** Default: 10000. */
  readonly statsIntervalMs?: number;
}

export interface SpoolConfig {
  /** The spool directory, or the shared base of `slots` numbered directories. */
  readonly dir: string;
  /** 0 when `dir` is the spool directory itself. */
  readonly slots: number;
  readonly maxPendingBytes: number;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  readonly fsync: FsyncPolicy;
  readonly fsyncIntervalMs: number;
}

export interface SamplingConfig {
  /** Rate per record type; `error` is always 1. */
  readonly rates: Readonly<Record<RecordType, number>>;
  readonly honourSampledFlag: boolean;
}

export interface ProducerConfig {
  readonly brokers: readonly string[];
  readonly kafka: Kafka | null;
  /** TLS and SASL of the client the producer makes (unused with `kafka`). */
  readonly security: KafkaSecurity;
  readonly clientId: string;
  readonly topics: TopicCatalogue;
  readonly compression: Compression;
  readonly maxQueueRecords: number;
  readonly maxQueueBytes: number;
  readonly maxBatchRecords: number;
  readonly maxBatchBytes: number;
  readonly lingerMs: number;
  readonly maxRecordBytes: number;
  readonly backpressure: BackpressurePolicy;
  readonly spool: SpoolConfig | null;
  readonly sampling: SamplingConfig;
  readonly sendLanes: number;
  readonly sendTimeoutMs: number;
  readonly connectionTimeoutMs: number;
  readonly sendRetries: number;
  readonly retryBackoffMs: number;
  readonly maxRetryBackoffMs: number;
  readonly closeTimeoutMs: number;
  readonly contextManager: ContextManager;
  readonly logger: Logger;
  readonly ensureTopics: boolean;
  readonly onStats: ((stats: ProducerStats) => void) | null;
  readonly statsIntervalMs: number;
}

const MiB = 1024 * 1024;
const DEFAULT_CLIENT_ID = "tracehouse-producer";
/** Producers that can share the default spool directory on one host. */
const SHARED_SPOOL_SLOTS = 64;

function rate(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback;
  if (typeof resolved !== "number" || !(resolved >= 0 && resolved <= 1)) {
    throw new ConfigError(`${name} must be a number from 0 to 1, got ${String(value)}`);
  }
  return resolved;
}

function oneOf<T extends string>(
  value: T | undefined,
  fallback: T,
  allowed: Readonly<Record<string, T>>,
  name: string,
): T {
  const resolved = value ?? fallback;
  if (!Object.values(allowed).includes(resolved)) {
    throw new ConfigError(
      `${name} must be one of ${Object.values(allowed).join(", ")}, got ${String(value)}`,
    );
  }
  return resolved;
}

function resolveSpool(
  options: SpoolOptions | false | undefined,
  clientId: string,
  maxRecordBytes: number,
  maxQueueBytes: number,
): SpoolConfig | null {
  if (options === false) return null;
  const spool = options ?? {};
  const fsync = oneOf(spool.fsync, FsyncPolicy.Interval, FsyncPolicy, "spool.fsync");
  if (spool.fsyncIntervalMs !== undefined && fsync !== FsyncPolicy.Interval) {
    throw new ConfigError(`spool.fsyncIntervalMs only applies to fsync "interval", not "${fsync}"`);
  }
  const maxBytes = integerOption(spool.maxBytes, 256 * MiB, "spool.maxBytes", 1);
  const segmentBytes = integerOption(
    spool.segmentBytes,
    Math.min(4 * MiB, maxBytes),
    "spool.segmentBytes",
    1,
  );
  if (segmentBytes > maxBytes) {
    throw new ConfigError(`spool.segmentBytes (${segmentBytes}) exceeds spool.maxBytes (${maxBytes})`);
  }
  if (segmentBytes < maxRecordBytes) {
    throw new ConfigError(
      `spool.segmentBytes (${segmentBytes}) must hold the largest record, maxRecordBytes (${maxRecordBytes})`,
    );
  }
  const safeClientId = clientId.replace(/[^A-Za-z0-9._-]/g, "_");
  return Object.freeze({
    dir: path.resolve(spool.dir ?? path.join(tmpdir(), "tracehouse-spool", safeClientId)),
    slots: spool.dir === undefined ? SHARED_SPOOL_SLOTS : 0,
    maxPendingBytes: integerOption(
      spool.maxPendingBytes,
      maxQueueBytes,
      "spool.maxPendingBytes",
      maxRecordBytes,
    ),
    maxBytes,
    segmentBytes,
    fsync,
    fsyncIntervalMs: integerOption(spool.fsyncIntervalMs, 1000, "spool.fsyncIntervalMs", 1),
  });
}

const MAX_SEND_LANES = 16;

function sendLanes(value: number | undefined): number {
  const lanes = integerOption(value, 4, "sendLanes", 1);
  if (lanes > MAX_SEND_LANES)
    throw new ConfigError(`sendLanes must be at most ${MAX_SEND_LANES}, got ${lanes}`);
  return lanes;
}

function resolveSampling(options: SamplingOptions | undefined): SamplingConfig {
  const sampling = options ?? {};
  const base = rate(sampling.rate, 1, "sampling.rate");
  const given = sampling.rates ?? {};
  for (const key of Object.keys(given)) {
    if (!(RECORD_TYPES as readonly string[]).includes(key)) {
      throw new ConfigError(`sampling.rates.${key}: not a record type`);
    }
  }
  if (given.error !== undefined && given.error !== 1) {
    throw new ConfigError(`sampling.rates.error must be 1 or absent: errors are always kept`);
  }
  const rates = {} as Record<RecordType, number>;
  for (const type of RECORD_TYPES) {
    rates[type] = type === RecordType.Error ? 1 : rate(given[type], base, `sampling.rates.${type}`);
  }
  return Object.freeze({
    rates: Object.freeze(rates),
    honourSampledFlag: sampling.honourSampledFlag ?? true,
  });
}

/** Resolves options into a complete, frozen config. Throws ConfigError on invalid or contradictory options. */
export function resolveProducerConfig(options: ProducerOptions): ProducerConfig {
  const logger = options.logger ?? stderrLogger;
  if (options.kafka !== undefined && options.brokers !== undefined) {
    throw new ConfigError("give either brokers or kafka, not both");
  }
  if (options.kafka !== undefined && (options.tls !== undefined || options.sasl !== undefined)) {
    throw new ConfigError(
      "tls and sasl configure the client the producer makes: set them on the kafka client given",
    );
  }
  const brokers = options.brokers ?? [];
  if (options.kafka === undefined && brokers.length === 0) {
    throw new ConfigError("brokers is required (at least one host:port) unless a kafka client is given");
  }
  for (const broker of brokers) {
    if (typeof broker !== "string" || !/^[^\s:]+:\d+$/.test(broker)) {
      throw new ConfigError(`broker ${JSON.stringify(broker)} is not host:port`);
    }
  }
  const clientId = options.clientId ?? DEFAULT_CLIENT_ID;
  if (clientId.length === 0) throw new ConfigError("clientId must not be empty");

  const maxBatchBytes = integerOption(options.maxBatchBytes, MiB, "maxBatchBytes", 1);
  const maxRecordBytes = integerOption(
    options.maxRecordBytes,
    Math.min(900_000, maxBatchBytes),
    "maxRecordBytes",
    1,
  );
  if (maxRecordBytes > maxBatchBytes) {
    throw new ConfigError(`maxRecordBytes (${maxRecordBytes}) exceeds maxBatchBytes (${maxBatchBytes})`);
  }
  const maxBatchRecords = integerOption(options.maxBatchRecords, 10_000, "maxBatchRecords", 1);
  const maxQueueRecords = integerOption(options.maxQueueRecords, 100_000, "maxQueueRecords", 1);
  const maxQueueBytes = integerOption(options.maxQueueBytes, 64 * MiB, "maxQueueBytes", 1);
  if (maxQueueBytes < maxRecordBytes) {
    throw new ConfigError(
      `maxQueueBytes (${maxQueueBytes}) must hold the largest record, maxRecordBytes (${maxRecordBytes})`,
    );
  }

  const spool = resolveSpool(options.spool, clientId, maxRecordBytes, maxQueueBytes);
  const backpressure = oneOf(
    options.backpressure,
    spool === null ? BackpressurePolicy.Drop : BackpressurePolicy.Spill,
    BackpressurePolicy,
    "backpressure",
  );
  if (backpressure === BackpressurePolicy.Spill && spool === null) {
    throw new ConfigError(`backpressure "spill" needs the spool, which is disabled`);
  }

  const retryBackoffMs = integerOption(options.retryBackoffMs, 200, "retryBackoffMs", 1);
  const maxRetryBackoffMs = integerOption(
    options.maxRetryBackoffMs,
    Math.max(5000, retryBackoffMs),
    "maxRetryBackoffMs",
    1,
  );
  if (maxRetryBackoffMs < retryBackoffMs) {
    throw new ConfigError(
      `maxRetryBackoffMs (${maxRetryBackoffMs}) is below retryBackoffMs (${retryBackoffMs})`,
    );
  }

  const onStats = options.onStats ?? null;
  if (options.statsIntervalMs !== undefined && onStats === null) {
    logger.warn("statsIntervalMs has no effect without onStats");
  }

  return Object.freeze({
    brokers: Object.freeze([...brokers]),
    kafka: options.kafka ?? null,
    security: resolveKafkaSecurity(options, logger),
    clientId,
    topics: options.topics ?? createTopicCatalogue(),
    compression: oneOf(options.compression, Compression.Gzip, Compression, "compression"),
    maxQueueRecords,
    maxQueueBytes,
    maxBatchRecords,
    maxBatchBytes,
    lingerMs: integerOption(options.lingerMs, 5, "lingerMs", 0),
    maxRecordBytes,
    backpressure,
    spool,
    sampling: resolveSampling(options.sampling),
    sendLanes: sendLanes(options.sendLanes),
    sendTimeoutMs: integerOption(options.sendTimeoutMs, 30_000, "sendTimeoutMs", 1),
    connectionTimeoutMs: integerOption(options.connectionTimeoutMs, 3000, "connectionTimeoutMs", 1),
    sendRetries: integerOption(options.sendRetries, 2, "sendRetries", 1),
    retryBackoffMs,
    maxRetryBackoffMs,
    closeTimeoutMs: integerOption(options.closeTimeoutMs, 10_000, "closeTimeoutMs", 0),
    contextManager: options.contextManager ?? defaultContextManager,
    logger,
    ensureTopics: options.ensureTopics ?? false,
    onStats,
    statsIntervalMs: integerOption(options.statsIntervalMs, 10_000, "statsIntervalMs", 1),
  });
}
