import { TABLE_OF_RECORD_TYPE, isRecordTable } from "@tracehouse/clickhouse";
import type { RecordTable, SchemaOptions, Sink, SinkOptions } from "@tracehouse/clickhouse";
import {
  ConfigError,
  RECORD_TYPES,
  createTopicCatalogue,
  integerOption,
  noopLogger,
  resolveKafkaSecurity,
} from "@tracehouse/schemas";
import type { KafkaSecurity, KafkaSecurityOptions, Logger } from "@tracehouse/schemas";
import type { Kafka, KafkaConfig } from "kafkajs";
import type { Registry } from "prom-client";

/** Also takes the shared Kafka security options `tls` and `sasl` (see {@link KafkaSecurityOptions}). */
export interface WorkerOptions extends KafkaSecurityOptions {
  /** Kafka bootstrap brokers, `host:port`. Default: `["127.0.0.1:9092"]`. */
  readonly brokers?: readonly string[];
  /** Extra kafkajs client settings (timeouts, retry); TLS and SASL go in `tls` and `sasl`. Default: none. */
  readonly kafkaConfig?: Omit<KafkaConfig, "brokers" | "clientId" | "logCreator" | "logLevel">;
  /** A kafkajs client to use instead of creating one; contradicts `brokers` and `kafkaConfig`. */
  readonly kafka?: Kafka;
  /** Default: `"tracehouse-worker"`. */
  readonly clientId?: string;
  /** Consumer group shared by all worker pods. Default: `"tracehouse-worker"`. */
  readonly groupId?: string;
  /** Topic name prefix of the catalogue. Default: `"tracehouse."`. */
  readonly topicPrefix?: string;
  /** Tables to write; records of other tables are counted as skipped. Default: all six. */
  readonly tables?: readonly RecordTable[];
  /** Topics to consume. Default: the catalogue topics of `tables`. */
  readonly topics?: readonly string[];
  /** Where poison records go. Default: the catalogue's dead-letter topic (`tracehouse.dlq`). */
  readonly deadLetterTopic?: string;
  /** Compacted topic read to resolve unknown writer schemas (newer producers); null: never. Default: `tracehouse.schemas`. */
  readonly schemasTopic?: string | null;
  /** Where a group without committed offsets starts: the earliest record (true) or the end. Default: true. */
  readonly fromBeginning?: boolean;
  /** A sink to write through; the worker does not close it. Contradicts `clickhouse`. */
  readonly sink?: Sink;
  /** How to open a sink when none is given: HTTP `url`, else the embedded engine in `dataDir`. Default: `{}`. */
  readonly clickhouse?: SinkOptions;
  /** Apply the ClickHouse migrations at start. Default: false. */
  readonly createTables?: boolean;
  /** Migration settings (cluster, TTL, dedup window) used by `createTables`. Default: the schema's defaults. */
  readonly schema?: Omit<SchemaOptions, "logger" | "database">;
  /** A table batch is inserted when it holds this many rows. Default: 10000. */
  readonly maxBatchRows?: number;
  /** ... or this many record bytes (Kafka value sizes). Default: 8 MiB. */
  readonly maxBatchBytes?: number;
  /** ... or when its oldest row waited this long, or half as long once no row joined it for a quarter of it (up to four times as long while its topics lag or its insert could not start yet). Default: 1000. */
  readonly flushIntervalMs?: number;
  /** Record bytes buffered in all tables (open, queued and inserting) before every partition is paused; about a flush interval of records at the engine's rate. Default: 24 MiB. */
  readonly maxBufferedBytes?: number;
  /** Sealed batches waiting per table before the partitions feeding it are paused. Default: 2. */
  readonly maxPendingBatches?: number;
  /** Inserts running at once, over all tables; beyond the sink's own `concurrency` they wait in the sink, and a batch past its flush interval goes on filling meanwhile. Default: 2. */
  readonly maxConcurrentInserts?: number;
  /** First retry delay ceiling of a transient failure; doubles per attempt, full jitter. Default: 100. */
  readonly retryBaseDelayMs?: number;
  /** Retry delay ceiling. Default: 30000. */
  readonly retryMaxDelayMs?: number;
  /**
   * Retries of one transient failure (insert, dead-letter send, commit). Afterwards the rows an engine
   * error keeps failing on are dead-lettered (`retries_exhausted`); an unreachable ClickHouse or
   * broker stops the worker with RetriesExhaustedError. A commit also retries for as long as its
   * group may take to settle (`sessionTimeoutMs + rebalanceTimeoutMs`): a coordinator moving or a
   * rebalance cures itself within that. Default: 10.
   */
  readonly maxRetries?: number;
  /**
   * Largest dead letter copied in full (value, key, headers); a larger record is dead-lettered as a
   * pointer (reason and source topic/partition/offset). Keep it below the broker's `message.max.bytes`.
   * Default: 256 KiB.
   */
  readonly maxDeadLetterBytes?: number;
  /** Dead letters allowed among the last `deadLetterWindow` records of a partition, as a fraction; 1 disables. Default: 0.1. */
  readonly maxDeadLetterRatio?: number;
  /** Records per partition the dead-letter ratio is measured over. Default: 1000. */
  readonly deadLetterWindow?: number;
  /** Group session timeout: how soon a crashed pod's partitions move. Default: 10000. */
  readonly sessionTimeoutMs?: number;
  /** Default: 1000. Must be below `sessionTimeoutMs`. */
  readonly heartbeatIntervalMs?: number;
  /** How long the group waits for members to rejoin during a rebalance. Default: 30000. */
  readonly rebalanceTimeoutMs?: number;
  /** Fetch size per partition. Default: 1 MiB. */
  readonly maxBytesPerPartition?: number;
  /**
   * Fetch size over all partitions: what arrives after the partitions are paused, so memory stays
   * below about `maxBufferedBytes + maxBytesPerFetch`. Default: 8 MiB.
   */
  readonly maxBytesPerFetch?: number;
  /** Graceful stop budget (flush, commit, leave); afterwards the worker leaves without committing. Default: 30000. */
  readonly shutdownTimeoutMs?: number;
  /** Port of the `/healthz`, `/readyz`, `/metrics` server; 0 picks a free port, null runs none. Default: null. */
  readonly healthPort?: number | null;
  /** Default: `"0.0.0.0"`. */
  readonly healthHost?: string;
  /** Prometheus registry for the worker's metrics. Default: a new registry with process metrics. */
  readonly registry?: Registry;
  /** Default: a logger that drops everything. */
  readonly logger?: Logger;
}

export interface RetryConfig {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxRetries: number;
}

export interface WorkerConfig {
  readonly kafka: Kafka | null;
  readonly brokers: readonly string[];
  readonly kafkaConfig: Omit<KafkaConfig, "brokers" | "clientId" | "logCreator" | "logLevel">;
  /** TLS and SASL of the clients the worker makes (unused with `kafka`). */
  readonly security: KafkaSecurity;
  readonly clientId: string;
  readonly groupId: string;
  readonly tables: readonly RecordTable[];
  readonly topics: readonly string[];
  readonly deadLetterTopic: string;
  readonly schemasTopic: string | null;
  readonly fromBeginning: boolean;
  readonly sink: Sink | null;
  readonly clickhouse: SinkOptions;
  readonly createTables: boolean;
  readonly schema: Omit<SchemaOptions, "logger" | "database">;
  readonly maxBatchRows: number;
  readonly maxBatchBytes: number;
  readonly flushIntervalMs: number;
  readonly maxBufferedBytes: number;
  readonly maxPendingBatches: number;
  readonly maxConcurrentInserts: number;
  readonly retry: RetryConfig;
  readonly maxDeadLetterRatio: number;
  readonly deadLetterWindow: number;
  readonly maxDeadLetterBytes: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly maxBytesPerPartition: number;
  readonly maxBytesPerFetch: number;
  readonly shutdownTimeoutMs: number;
  readonly healthPort: number | null;
  readonly healthHost: string;
  readonly registry: Registry | null;
  readonly logger: Logger;
}

export const WORKER_DEFAULTS = {
  brokers: ["127.0.0.1:9092"],
  clientId: "tracehouse-worker",
  groupId: "tracehouse-worker",
  topicPrefix: "tracehouse.",
  fromBeginning: true,
  createTables: false,
  maxBatchRows: 10_000,
  maxBatchBytes: 8 * 1024 * 1024,
  flushIntervalMs: 1000,
  maxBufferedBytes: 24 * 1024 * 1024,
  maxPendingBatches: 2,
  maxConcurrentInserts: 2,
  retryBaseDelayMs: 100,
  retryMaxDelayMs: 30_000,
  maxRetries: 10,
  maxDeadLetterBytes: 256 * 1024,
  maxDeadLetterRatio: 0.1,
  deadLetterWindow: 1000,
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1000,
  rebalanceTimeoutMs: 30_000,
  maxBytesPerPartition: 1024 * 1024,
  maxBytesPerFetch: 8 * 1024 * 1024,
  shutdownTimeoutMs: 30_000,
  healthPort: null,
  healthHost: "0.0.0.0",
} as const;

/**
 * Bounds of the numeric options, checked by {@link resolveWorkerConfig}; the CLI checks its flags
 * against the same table (integers unless `above` is given, which excludes its value).
 */
export const WORKER_BOUNDS = {
  maxBatchRows: { min: 1 },
  maxBatchBytes: { min: 1 },
  flushIntervalMs: { min: 1 },
  maxBufferedBytes: { min: 1 },
  maxPendingBatches: { min: 1 },
  maxConcurrentInserts: { min: 1 },
  retryBaseDelayMs: { min: 0 },
  retryMaxDelayMs: { min: 0 },
  maxRetries: { min: 0 },
  maxDeadLetterBytes: { min: 16 * 1024 },
  maxDeadLetterRatio: { above: 0, max: 1 },
  deadLetterWindow: { min: 1 },
  sessionTimeoutMs: { min: 1 },
  heartbeatIntervalMs: { min: 1 },
  rebalanceTimeoutMs: { min: 1 },
  maxBytesPerPartition: { min: 1 },
  maxBytesPerFetch: { min: 1 },
  shutdownTimeoutMs: { min: 1 },
  healthPort: { min: 0, max: 65_535 },
} as const;

type BoundedInteger = Exclude<keyof typeof WORKER_BOUNDS, "maxDeadLetterRatio" | "healthPort">;

/** An integer option, or its default; ConfigError below its bound in {@link WORKER_BOUNDS}. */
function bounded(options: WorkerOptions, name: BoundedInteger): number {
  return integerOption(options[name], WORKER_DEFAULTS[name], name, WORKER_BOUNDS[name].min);
}

function nonEmpty(value: string | undefined, fallback: string, name: string): string {
  const resolved = value ?? fallback;
  if (typeof resolved !== "string" || resolved.trim() === "")
    throw new ConfigError(`${name} must not be empty`);
  return resolved;
}

function resolveTables(tables: readonly string[] | undefined): readonly RecordTable[] {
  if (tables === undefined) return Object.freeze(RECORD_TYPES.map((type) => TABLE_OF_RECORD_TYPE[type]));
  if (tables.length === 0) throw new ConfigError("tables must name at least one table");
  for (const table of tables) {
    if (!isRecordTable(table)) {
      const known = Object.values(TABLE_OF_RECORD_TYPE).join(", ");
      throw new ConfigError(`tables: unknown table ${JSON.stringify(table)} (known: ${known})`);
    }
  }
  return Object.freeze([...new Set(tables as readonly RecordTable[])]);
}

function resolveBrokers(options: WorkerOptions): readonly string[] {
  if (options.kafka !== undefined && (options.brokers !== undefined || options.kafkaConfig !== undefined)) {
    throw new ConfigError("give either kafka (a client) or brokers/kafkaConfig, not both");
  }
  const secured = options.tls !== undefined || options.sasl !== undefined;
  if (options.kafka !== undefined && secured) {
    throw new ConfigError(
      "tls and sasl configure the clients the worker makes: set them on the kafka client given",
    );
  }
  if (secured && (options.kafkaConfig?.ssl !== undefined || options.kafkaConfig?.sasl !== undefined)) {
    throw new ConfigError("give TLS and SASL either as tls/sasl or in kafkaConfig, not both");
  }
  const brokers = options.brokers ?? WORKER_DEFAULTS.brokers;
  if (brokers.length === 0) throw new ConfigError("brokers must list at least one host:port");
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker)) {
      throw new ConfigError(`brokers: ${JSON.stringify(broker)} is not host:port`);
    }
  }
  return Object.freeze([...brokers]);
}

/**
 * How long a consumer group may take to settle after losing a member or its coordinator: a session
 * expiring, then a rebalance. A commit waits for a rejoin, and retries, for this long.
 */
export function groupSettleMs(config: Pick<WorkerConfig, "sessionTimeoutMs" | "rebalanceTimeoutMs">): number {
  return config.sessionTimeoutMs + config.rebalanceTimeoutMs;
}

/** Resolves worker options into a complete config; throws ConfigError on invalid or contradictory options. */
export function resolveWorkerConfig(options: WorkerOptions = {}): WorkerConfig {
  const brokers = resolveBrokers(options);
  if (options.sink !== undefined && options.clickhouse !== undefined) {
    throw new ConfigError("give either sink or clickhouse (sink options), not both");
  }
  const catalogue = createTopicCatalogue({ prefix: options.topicPrefix ?? WORKER_DEFAULTS.topicPrefix });
  const tables = resolveTables(options.tables);
  const topics =
    options.topics ??
    RECORD_TYPES.filter((type) => tables.includes(TABLE_OF_RECORD_TYPE[type])).map((type) =>
      catalogue.topicFor(type),
    );
  if (topics.length === 0) throw new ConfigError("topics must name at least one topic");
  const deadLetterTopic = nonEmpty(options.deadLetterTopic, catalogue.dlq, "deadLetterTopic");
  if (topics.includes(deadLetterTopic)) {
    throw new ConfigError(`the dead-letter topic ${deadLetterTopic} cannot also be consumed`);
  }

  const maxBatchRows = bounded(options, "maxBatchRows");
  const maxBatchBytes = bounded(options, "maxBatchBytes");
  const maxBufferedBytes = bounded(options, "maxBufferedBytes");
  if (maxBufferedBytes < maxBatchBytes) {
    throw new ConfigError(`maxBufferedBytes (${maxBufferedBytes}) is below maxBatchBytes (${maxBatchBytes})`);
  }

  const baseDelayMs = bounded(options, "retryBaseDelayMs");
  const maxDelayMs = bounded(options, "retryMaxDelayMs");
  if (maxDelayMs < baseDelayMs) {
    throw new ConfigError(`retryMaxDelayMs (${maxDelayMs}) is below retryBaseDelayMs (${baseDelayMs})`);
  }
  const maxRetries = bounded(options, "maxRetries");

  const maxDeadLetterRatio = options.maxDeadLetterRatio ?? WORKER_DEFAULTS.maxDeadLetterRatio;
  if (!(
    maxDeadLetterRatio > WORKER_BOUNDS.maxDeadLetterRatio.above &&
    maxDeadLetterRatio <= WORKER_BOUNDS.maxDeadLetterRatio.max
  )) {
    throw new ConfigError(`maxDeadLetterRatio must be in (0, 1], got ${String(options.maxDeadLetterRatio)}`);
  }

  const sessionTimeoutMs = bounded(options, "sessionTimeoutMs");
  const heartbeatIntervalMs = bounded(options, "heartbeatIntervalMs");
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new ConfigError(
      `heartbeatIntervalMs (${heartbeatIntervalMs}) must be below sessionTimeoutMs (${sessionTimeoutMs})`,
    );
  }
  const maxBytesPerPartition = bounded(options, "maxBytesPerPartition");
  const maxBytesPerFetch = bounded(options, "maxBytesPerFetch");
  if (maxBytesPerFetch < maxBytesPerPartition) {
    throw new ConfigError(
      `maxBytesPerFetch (${maxBytesPerFetch}) is below maxBytesPerPartition (${maxBytesPerPartition})`,
    );
  }
  const healthPort =
    options.healthPort === undefined || options.healthPort === null
      ? WORKER_DEFAULTS.healthPort
      : integerOption(options.healthPort, 0, "healthPort", WORKER_BOUNDS.healthPort.min);
  if (healthPort !== null && healthPort > WORKER_BOUNDS.healthPort.max)
    throw new ConfigError(`healthPort ${healthPort} is not a port`);

  return Object.freeze({
    kafka: options.kafka ?? null,
    brokers,
    kafkaConfig: options.kafkaConfig ?? {},
    security: resolveKafkaSecurity(options, options.logger),
    clientId: nonEmpty(options.clientId, WORKER_DEFAULTS.clientId, "clientId"),
    groupId: nonEmpty(options.groupId, WORKER_DEFAULTS.groupId, "groupId"),
    tables,
    topics: Object.freeze([...new Set(topics)]),
    deadLetterTopic,
    schemasTopic:
      options.schemasTopic === null
        ? null
        : nonEmpty(options.schemasTopic, catalogue.schemas, "schemasTopic"),
    fromBeginning: options.fromBeginning ?? WORKER_DEFAULTS.fromBeginning,
    sink: options.sink ?? null,
    clickhouse: options.clickhouse ?? {},
    createTables: options.createTables ?? WORKER_DEFAULTS.createTables,
    schema: options.schema ?? {},
    maxBatchRows,
    maxBatchBytes,
    flushIntervalMs: bounded(options, "flushIntervalMs"),
    maxBufferedBytes,
    maxPendingBatches: bounded(options, "maxPendingBatches"),
    maxConcurrentInserts: bounded(options, "maxConcurrentInserts"),
    retry: Object.freeze({ baseDelayMs, maxDelayMs, maxRetries }),
    maxDeadLetterRatio,
    maxDeadLetterBytes: bounded(options, "maxDeadLetterBytes"),
    deadLetterWindow: bounded(options, "deadLetterWindow"),
    sessionTimeoutMs,
    heartbeatIntervalMs,
    rebalanceTimeoutMs: bounded(options, "rebalanceTimeoutMs"),
    maxBytesPerPartition,
    maxBytesPerFetch,
    shutdownTimeoutMs: bounded(options, "shutdownTimeoutMs"),
    healthPort,
    healthHost: nonEmpty(options.healthHost, WORKER_DEFAULTS.healthHost, "healthHost"),
    registry: options.registry ?? null,
    logger: options.logger ?? noopLogger,
  });
}
