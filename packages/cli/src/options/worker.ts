import { WORKER_BOUNDS, WORKER_DEFAULTS } from "@tracehouse/worker";
import type { WorkerOptions } from "@tracehouse/worker";
import type { Command } from "commander";
import { KAFKA_CONNECTION, KAFKA_CONSUMER, KAFKA_SECURITY, kafkaSecurityFrom } from "./kafka.js";
import { addOptions, adjust, optionTable, readOptions } from "./spec.js";
import type { Environment, OptionTable, RawOptions, Sources } from "./spec.js";

const D = WORKER_DEFAULTS;
const B = WORKER_BOUNDS;

/** Defaults and bounds are the worker's own (WORKER_DEFAULTS, WORKER_BOUNDS); only flag, env and doc are added here. */
export const BATCHING = optionTable("Batching and backpressure", {
  maxBatchRows: {
    type: "integer",
    flag: "max-batch-rows",
    env: "TRACEHOUSE_MAX_BATCH_ROWS",
    default: D.maxBatchRows,
    ...B.maxBatchRows,
    doc: "insert a table batch at this many rows",
  },
  maxBatchBytes: {
    type: "integer",
    flag: "max-batch-bytes",
    env: "TRACEHOUSE_MAX_BATCH_BYTES",
    default: D.maxBatchBytes,
    ...B.maxBatchBytes,
    bytes: true,
    doc: "... or at this many record bytes",
  },
  flushIntervalMs: {
    type: "integer",
    flag: "flush-interval-ms",
    arg: "<ms>",
    env: "TRACEHOUSE_FLUSH_INTERVAL_MS",
    default: D.flushIntervalMs,
    ...B.flushIntervalMs,
    doc: "... or when its oldest row waited this long (half as long once no row came for a quarter of it; up to 4× under load)",
  },
  maxBufferedBytes: {
    type: "integer",
    flag: "max-buffered-bytes",
    env: "TRACEHOUSE_MAX_BUFFERED_BYTES",
    default: D.maxBufferedBytes,
    ...B.maxBufferedBytes,
    bytes: true,
    doc: "record bytes held in all batches before every partition is paused",
  },
  maxPendingBatches: {
    type: "integer",
    flag: "max-pending-batches",
    env: "TRACEHOUSE_MAX_PENDING_BATCHES",
    default: D.maxPendingBatches,
    ...B.maxPendingBatches,
    doc: "batches waiting per table before the partitions feeding it are paused",
  },
  maxConcurrentInserts: {
    type: "integer",
    flag: "max-concurrent-inserts",
    env: "TRACEHOUSE_MAX_CONCURRENT_INSERTS",
    default: D.maxConcurrentInserts,
    ...B.maxConcurrentInserts,
    doc: "inserts running at once over all tables (beyond the sink's own, they wait in it)",
  },
});

export const RETRIES = optionTable("Retries and dead letters", {
  retryBaseDelayMs: {
    type: "integer",
    flag: "retry-base-delay-ms",
    arg: "<ms>",
    env: "TRACEHOUSE_RETRY_BASE_DELAY_MS",
    default: D.retryBaseDelayMs,
    ...B.retryBaseDelayMs,
    doc: "first backoff ceiling of a transient failure, doubled per retry, full jitter",
  },
  retryMaxDelayMs: {
    type: "integer",
    flag: "retry-max-delay-ms",
    arg: "<ms>",
    env: "TRACEHOUSE_RETRY_MAX_DELAY_MS",
    default: D.retryMaxDelayMs,
    ...B.retryMaxDelayMs,
    doc: "backoff ceiling",
  },
  maxRetries: {
    type: "integer",
    flag: "max-retries",
    env: "TRACEHOUSE_MAX_RETRIES",
    default: D.maxRetries,
    ...B.maxRetries,
    doc: "retries of one transient failure; then an engine error dead-letters its rows (retries_exhausted), an unreachable ClickHouse or broker stops the worker (a commit also retries while its group settles: session + rebalance timeout)",
  },
  maxDeadLetterRatio: {
    type: "number",
    flag: "max-dead-letter-ratio",
    arg: "<ratio>",
    env: "TRACEHOUSE_MAX_DEAD_LETTER_RATIO",
    default: D.maxDeadLetterRatio,
    ...B.maxDeadLetterRatio,
    doc: "dead letters allowed among a partition's last --dead-letter-window records before the worker stops; 1 disables",
  },
  deadLetterWindow: {
    type: "integer",
    flag: "dead-letter-window",
    env: "TRACEHOUSE_DEAD_LETTER_WINDOW",
    default: D.deadLetterWindow,
    ...B.deadLetterWindow,
    doc: "records per partition the dead-letter ratio is measured over",
  },
  maxDeadLetterBytes: {
    type: "integer",
    flag: "max-dead-letter-bytes",
    env: "TRACEHOUSE_MAX_DEAD_LETTER_BYTES",
    default: D.maxDeadLetterBytes,
    ...B.maxDeadLetterBytes,
    bytes: true,
    doc: "largest dead letter copied in full; larger ones are sent as pointers (reason and source topic/partition/offset); keep it below the broker's message.max.bytes",
  },
});

export const CONSUMER_GROUP = optionTable("Consumer group", {
  sessionTimeoutMs: {
    type: "integer",
    flag: "session-timeout-ms",
    arg: "<ms>",
    env: "TRACEHOUSE_SESSION_TIMEOUT_MS",
    default: D.sessionTimeoutMs,
    ...B.sessionTimeoutMs,
    doc: "how soon a vanished member's partitions move to the others",
  },
  heartbeatIntervalMs: {
    type: "integer",
    flag: "heartbeat-interval-ms",
    arg: "<ms>",
    env: "TRACEHOUSE_HEARTBEAT_INTERVAL_MS",
    default: D.heartbeatIntervalMs,
    ...B.heartbeatIntervalMs,
    doc: "heartbeat period, below the session timeout",
  },
  rebalanceTimeoutMs: {
    type: "integer",
    flag: "rebalance-timeout-ms",
    arg: "<ms>",
    env: "TRACEHOUSE_REBALANCE_TIMEOUT_MS",
    default: D.rebalanceTimeoutMs,
    ...B.rebalanceTimeoutMs,
    doc: "how long a rebalance waits for members to rejoin",
  },
  maxBytesPerPartition: {
    type: "integer",
    flag: "max-bytes-per-partition",
    env: "TRACEHOUSE_MAX_BYTES_PER_PARTITION",
    default: D.maxBytesPerPartition,
    ...B.maxBytesPerPartition,
    bytes: true,
    doc: "fetch size per partition",
  },
  maxBytesPerFetch: {
    type: "integer",
    flag: "max-bytes-per-fetch",
    env: "TRACEHOUSE_MAX_BYTES_PER_FETCH",
    default: D.maxBytesPerFetch,
    ...B.maxBytesPerFetch,
    bytes: true,
    doc: "fetch size over all partitions; memory stays below about --max-buffered-bytes plus this",
  },
  shutdownTimeoutMs: {
    type: "integer",
    flag: "shutdown-timeout-ms",
    arg: "<ms>",
    env: "TRACEHOUSE_SHUTDOWN_TIMEOUT_MS",
    default: D.shutdownTimeoutMs,
    ...B.shutdownTimeoutMs,
    doc: "budget to flush, commit and leave on SIGTERM/SIGINT",
  },
});

/** `--no-migrate`: the CLI applies the migrations at start unless told not to (the library does not by default). */
export const MIGRATE_AT_START = optionTable(
  "Migrations",
  {
    createTables: {
      type: "switch",
      flag: "no-migrate",
      env: "TRACEHOUSE_NO_MIGRATE",
      defaultText: "apply them",
      doc: "do not apply the ClickHouse migrations at start",
    },
  },
  "Migrations at start",
);

/** `tracehouse worker` alone. */
export const WORKER_START = optionTable(
  "Kafka",
  {
    fromBeginning: {
      type: "switch",
      flag: "no-from-beginning",
      env: "TRACEHOUSE_NO_FROM_BEGINNING",
      defaultText: "at the earliest record",
      doc: "a group without committed offsets starts at the end of the topics",
    },
  },
  "Worker start",
);

/** The health server; the CLI runs one by default (the library runs none unless given a port). */
export const HEALTH = optionTable("Health", {
  healthPort: {
    type: "integer",
    flag: "health-port",
    arg: "<port>",
    env: "TRACEHOUSE_HEALTH_PORT",
    default: 9464,
    ...B.healthPort,
    none: "off",
    doc: '/healthz, /readyz and /metrics port; 0 picks one, "off" disables',
  },
  healthHost: {
    type: "text",
    flag: "health-host",
    arg: "<host>",
    env: "TRACEHOUSE_HEALTH_HOST",
    default: D.healthHost,
    doc: "address the health server listens on",
  },
});

const TUNING: readonly OptionTable[] = [BATCHING, RETRIES, CONSUMER_GROUP, MIGRATE_AT_START];

/** Kafka connection, consumer and security options; `groupId` says what `--group-id` means for the command. */
export function addKafkaOptions(
  command: Command,
  groupId: { readonly doc: string; readonly defaultText: string },
): Command {
  addOptions(command, KAFKA_CONNECTION);
  addOptions(command, adjust(KAFKA_CONSUMER, { groupId }));
  addOptions(command, KAFKA_SECURITY);
  // options the command adds next belong with the Kafka ones, not under TLS and SASL
  return command.optionsGroup(`${KAFKA_CONNECTION.title}:`);
}

/** Batching, retries, dead-letter limit and group tuning: shared by the worker, replay, rebuild and redrive. */
export function addTuningOptions(command: Command): Command {
  for (const table of TUNING) addOptions(command, table);
  return command;
}

/** Worker options from the Kafka and tuning flags (health and ClickHouse options are added by the caller). */
export function workerOptionsFrom(
  raw: RawOptions,
  env: Environment = process.env,
  sources: Sources = {},
): WorkerOptions {
  const tables: readonly OptionTable[] = [KAFKA_CONNECTION, KAFKA_CONSUMER, ...TUNING];
  return Object.assign(
    {},
    ...tables.map((table) => readOptions(table, raw, sources)),
    kafkaSecurityFrom(raw, env, sources),
  ) as WorkerOptions;
}
