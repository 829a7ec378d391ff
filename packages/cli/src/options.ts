import { DEFAULT_DATA_DIR, DEFAULT_DATABASE } from "@tracehouse/clickhouse";
import type { SinkOptions } from "@tracehouse/clickhouse";
import type { Logger } from "@tracehouse/schemas";
import { ConfigError } from "@tracehouse/schemas";
import { Option } from "commander";
import type { Command } from "commander";
import { RECORD_TABLES, WORKER_DEFAULTS } from "@tracehouse/worker";
import type { WorkerOptions } from "@tracehouse/worker";
import {
  SECRET_ENV,
  addKafkaSecurityOptions,
  addSecretEnvHelp,
  kafkaSecurityFrom,
} from "./security-options.js";
import type { Environment } from "./security-options.js";

/** Raw option values as commander hands them over: strings (or booleans for switches). */
export type RawOptions = Readonly<Record<string, string | boolean | undefined>>;

const MiB = 1024 * 1024;

function env(flag: string): string {
  return `TRACEHOUSE_${flag.replace(/-/g, "_").toUpperCase()}`;
}

function option(flags: string, description: string, name: string, envName: string = env(name)): Option {
  return new Option(flags, description).env(envName);
}

/** ClickHouse: where rows go (a server over HTTP, else the embedded engine in a directory). */
export function addClickHouseOptions(command: Command): Command {
  addSecretEnvHelp(
    command,
    command.options.some((o) => o.long === "--brokers"),
  );
  return command
    .optionsGroup("ClickHouse:")
    .addOption(
      option(
        "--clickhouse-url <url>",
        "ClickHouse HTTP endpoint; when set, rows go to that server (default: none, the embedded engine)",
        "clickhouse-url",
        "CLICKHOUSE_URL",
      ),
    )
    .addOption(
      option(
        "--clickhouse-user <name>",
        'ClickHouse user (default: "default")',
        "clickhouse-user",
        "CLICKHOUSE_USER",
      ),
    )
    .addOption(
      option(
        "--clickhouse-password-file <path>",
        `file holding the ClickHouse password, e.g. a mounted Secret; or the password itself in ${SECRET_ENV.clickhousePassword} (default: none, an empty password)`,
        "clickhouse-password-file",
        "CLICKHOUSE_PASSWORD_FILE",
      ),
    )
    .addOption(
      option(
        "--clickhouse-ca-file <path>",
        "PEM CA certificate(s) an https: server's certificate must chain to (default: Node's bundled roots)",
        "clickhouse-ca-file",
        "CLICKHOUSE_CA_FILE",
      ),
    )
    .addOption(
      option(
        "--data-dir <dir>",
        `embedded engine data directory, used when no URL is given; one process at a time (default: "${DEFAULT_DATA_DIR}")`,
        "data-dir",
      ),
    )
    .addOption(
      option(
        "--database <name>",
        `database of the tracehouse tables (default: "${DEFAULT_DATABASE}")`,
        "database",
      ),
    )
    .optionsGroup("Logging:")
    .addOption(
      option("--log-level <level>", "log level of the JSON lines on stderr", "log-level")
        .choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
        .default("info"),
    );
}

/** Kafka: the brokers, the client id and the catalogue's topic prefix. */
export function addKafkaConnectionOptions(command: Command): Command {
  return command
    .optionsGroup("Kafka:")
    .addOption(
      option(
        "--brokers <list>",
        `comma-separated bootstrap brokers, host:port (default: "${WORKER_DEFAULTS.brokers.join(",")}")`,
        "brokers",
        "KAFKA_BROKERS",
      ),
    )
    .addOption(
      option("--client-id <id>", `Kafka client id (default: "${WORKER_DEFAULTS.clientId}")`, "client-id"),
    )
    .addOption(
      option(
        "--topic-prefix <prefix>",
        `prefix of the catalogue's topic names (default: "${WORKER_DEFAULTS.topicPrefix}")`,
        "topic-prefix",
      ),
    );
}

/** Kafka: where records come from and where poison records go. */
export function addKafkaOptions(command: Command, groupDescription: string): Command {
  addKafkaConnectionOptions(command)
    .addOption(option("--group-id <id>", groupDescription, "group-id"))
    .addOption(
      option(
        "--tables <list>",
        `comma-separated tables to write; records of the others are skipped and counted (default: all: ${RECORD_TABLES.join(",")})`,
        "tables",
      ),
    )
    .addOption(
      option(
        "--topics <list>",
        "comma-separated topics to consume (default: the catalogue topics of --tables)",
        "topics",
      ),
    )
    .addOption(
      option(
        "--dead-letter-topic <topic>",
        "where poison records go, with the reason in headers (default: <prefix>dlq)",
        "dead-letter-topic",
      ),
    );
  // options the command adds next belong with the Kafka ones, not under TLS and SASL
  return addKafkaSecurityOptions(command).optionsGroup("Kafka:");
}

/** Batching, retries, dead-letter limit and group tuning: shared by the worker, replay and rebuild. */
export function addTuningOptions(command: Command): Command {
  return command
    .optionsGroup("Batching and backpressure:")
    .addOption(
      option(
        "--max-batch-rows <n>",
        `insert a table batch at this many rows (default: ${WORKER_DEFAULTS.maxBatchRows})`,
        "max-batch-rows",
      ),
    )
    .addOption(
      option(
        "--max-batch-bytes <n>",
        `... or at this many record bytes (default: ${WORKER_DEFAULTS.maxBatchBytes / MiB} MiB)`,
        "max-batch-bytes",
      ),
    )
    .addOption(
      option(
        "--flush-interval-ms <ms>",
        `... or when its oldest row waited this long (default: ${WORKER_DEFAULTS.flushIntervalMs})`,
        "flush-interval-ms",
      ),
    )
    .addOption(
      option(
        "--max-buffered-bytes <n>",
        `record bytes held in all batches before every partition is paused (default: ${WORKER_DEFAULTS.maxBufferedBytes / MiB} MiB)`,
        "max-buffered-bytes",
      ),
    )
    .addOption(
      option(
        "--max-pending-batches <n>",
        `batches waiting per table before the partitions feeding it are paused (default: ${WORKER_DEFAULTS.maxPendingBatches})`,
        "max-pending-batches",
      ),
    )
    .addOption(
      option(
        "--max-concurrent-inserts <n>",
        `inserts running at once over all tables (default: ${WORKER_DEFAULTS.maxConcurrentInserts})`,
        "max-concurrent-inserts",
      ),
    )
    .optionsGroup("Retries and dead letters:")
    .addOption(
      option(
        "--retry-base-delay-ms <ms>",
        `first backoff ceiling of a transient failure, doubled per retry, full jitter (default: ${WORKER_DEFAULTS.retryBaseDelayMs})`,
        "retry-base-delay-ms",
      ),
    )
    .addOption(
      option(
        "--retry-max-delay-ms <ms>",
        `backoff ceiling (default: ${WORKER_DEFAULTS.retryMaxDelayMs})`,
        "retry-max-delay-ms",
      ),
    )
    .addOption(
      option(
        "--max-retries <n>",
        `retries of one transient failure; then an engine error dead-letters its rows (retries_exhausted), an unreachable ClickHouse or broker stops the worker (default: ${WORKER_DEFAULTS.maxRetries})`,
        "max-retries",
      ),
    )
    .addOption(
      option(
        "--max-dead-letter-ratio <ratio>",
        `dead letters allowed among a partition's last --dead-letter-window records before the worker stops; 1 disables (default: ${WORKER_DEFAULTS.maxDeadLetterRatio})`,
        "max-dead-letter-ratio",
      ),
    )
    .addOption(
      option(
        "--dead-letter-window <n>",
        `records per partition the dead-letter ratio is measured over (default: ${WORKER_DEFAULTS.deadLetterWindow})`,
        "dead-letter-window",
      ),
    )
    .addOption(
      option(
        "--max-dead-letter-bytes <n>",
        `largest dead letter copied in full; larger ones are sent as pointers (reason and source topic/partition/offset); keep it below the broker's message.max.bytes (default: ${WORKER_DEFAULTS.maxDeadLetterBytes})`,
        "max-dead-letter-bytes",
      ),
    )
    .optionsGroup("Consumer group:")
    .addOption(
      option(
        "--session-timeout-ms <ms>",
        `how soon a vanished member's partitions move to the others (default: ${WORKER_DEFAULTS.sessionTimeoutMs})`,
        "session-timeout-ms",
      ),
    )
    .addOption(
      option(
        "--heartbeat-interval-ms <ms>",
        `heartbeat period, below the session timeout (default: ${WORKER_DEFAULTS.heartbeatIntervalMs})`,
        "heartbeat-interval-ms",
      ),
    )
    .addOption(
      option(
        "--rebalance-timeout-ms <ms>",
        `how long a rebalance waits for members to rejoin (default: ${WORKER_DEFAULTS.rebalanceTimeoutMs})`,
        "rebalance-timeout-ms",
      ),
    )
    .addOption(
      option(
        "--max-bytes-per-partition <n>",
        `fetch size per partition (default: ${WORKER_DEFAULTS.maxBytesPerPartition / MiB} MiB)`,
        "max-bytes-per-partition",
      ),
    )
    .addOption(
      option(
        "--max-bytes-per-fetch <n>",
        `fetch size over all partitions; memory stays below about --max-buffered-bytes plus this (default: ${WORKER_DEFAULTS.maxBytesPerFetch / MiB} MiB)`,
        "max-bytes-per-fetch",
      ),
    )
    .addOption(
      option(
        "--shutdown-timeout-ms <ms>",
        `budget to flush, commit and leave on SIGTERM/SIGINT (default: ${WORKER_DEFAULTS.shutdownTimeoutMs})`,
        "shutdown-timeout-ms",
      ),
    )
    .addOption(
      option(
        "--no-migrate",
        "do not apply the ClickHouse migrations at start (default: apply them)",
        "migrate",
      ).env("TRACEHOUSE_NO_MIGRATE"),
    );
}

/** An integer option, or undefined when absent; ConfigError naming the flag when malformed. */
export function integerOption(raw: RawOptions, name: string, flag: string): number | undefined {
  const value = raw[name];
  if (value === undefined || typeof value === "boolean") return undefined;
  const text = value.trim();
  if (!/^-?\d+$/.test(text))
    throw new ConfigError(`--${flag}: expected an integer, got ${JSON.stringify(value)}`);
  return Number(text);
}

export function numberOption(raw: RawOptions, name: string, flag: string): number | undefined {
  const value = raw[name];
  if (value === undefined || typeof value === "boolean") return undefined;
  const number = Number(value.trim());
  if (value.trim() === "" || !Number.isFinite(number)) {
    throw new ConfigError(`--${flag}: expected a number, got ${JSON.stringify(value)}`);
  }
  return number;
}

export function listOption(raw: RawOptions, name: string): string[] | undefined {
  const value = raw[name];
  if (typeof value !== "string") return undefined;
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function stringOption(raw: RawOptions, name: string): string | undefined {
  const value = raw[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * The sink options from flags and env. A URL from the environment yields to an explicit
 * --data-dir (and the other way round); both given as flags is a contradiction.
 */
export function sinkOptionsFrom(
  raw: RawOptions,
  sources: Readonly<Record<string, string | undefined>>,
  logger: Logger,
  env: Environment = process.env,
): SinkOptions {
  const password = env[SECRET_ENV.clickhousePassword] || undefined;
  const passwordFile = stringOption(raw, "clickhousePasswordFile");
  if (password !== undefined && passwordFile !== undefined) {
    throw new ConfigError(
      `give the ClickHouse password either in ${SECRET_ENV.clickhousePassword} or with --clickhouse-password-file, not both`,
    );
  }
  const caFile = stringOption(raw, "clickhouseCaFile");
  let url = stringOption(raw, "clickhouseUrl");
  let dataDir = stringOption(raw, "dataDir");
  if (url !== undefined && dataDir !== undefined) {
    const urlFromCli = sources.clickhouseUrl === "cli";
    const dirFromCli = sources.dataDir === "cli";
    if (urlFromCli && dirFromCli)
      throw new ConfigError("give either --clickhouse-url or --data-dir, not both");
    if (dirFromCli) url = undefined;
    else dataDir = undefined;
  }
  return {
    ...(url === undefined ? {} : { url }),
    ...(dataDir === undefined ? {} : { dataDir }),
    ...(stringOption(raw, "clickhouseUser") === undefined
      ? {}
      : { username: stringOption(raw, "clickhouseUser") }),
    ...(password === undefined ? {} : { password }),
    ...(passwordFile === undefined ? {} : { passwordFile }),
    ...(caFile === undefined ? {} : { caFile }),
    ...(stringOption(raw, "database") === undefined ? {} : { database: stringOption(raw, "database") }),
    logger,
    env: {},
  };
}

/** Worker options from the Kafka and tuning flags (health and ClickHouse options are added by the caller). */
export function workerOptionsFrom(raw: RawOptions, env: Environment = process.env): WorkerOptions {
  const brokers = listOption(raw, "brokers");
  const tables = listOption(raw, "tables");
  const topics = listOption(raw, "topics");
  const maxRetries = integerOption(raw, "maxRetries", "max-retries");
  const options: Record<string, unknown> = {
    brokers,
    clientId: stringOption(raw, "clientId"),
    groupId: stringOption(raw, "groupId"),
    topicPrefix: stringOption(raw, "topicPrefix"),
    tables,
    topics,
    deadLetterTopic: stringOption(raw, "deadLetterTopic"),
    maxBatchRows: integerOption(raw, "maxBatchRows", "max-batch-rows"),
    maxBatchBytes: integerOption(raw, "maxBatchBytes", "max-batch-bytes"),
    flushIntervalMs: integerOption(raw, "flushIntervalMs", "flush-interval-ms"),
    maxBufferedBytes: integerOption(raw, "maxBufferedBytes", "max-buffered-bytes"),
    maxPendingBatches: integerOption(raw, "maxPendingBatches", "max-pending-batches"),
    maxConcurrentInserts: integerOption(raw, "maxConcurrentInserts", "max-concurrent-inserts"),
    retryBaseDelayMs: integerOption(raw, "retryBaseDelayMs", "retry-base-delay-ms"),
    retryMaxDelayMs: integerOption(raw, "retryMaxDelayMs", "retry-max-delay-ms"),
    maxRetries,
    maxDeadLetterRatio: numberOption(raw, "maxDeadLetterRatio", "max-dead-letter-ratio"),
    deadLetterWindow: integerOption(raw, "deadLetterWindow", "dead-letter-window"),
    maxDeadLetterBytes: integerOption(raw, "maxDeadLetterBytes", "max-dead-letter-bytes"),
    sessionTimeoutMs: integerOption(raw, "sessionTimeoutMs", "session-timeout-ms"),
    heartbeatIntervalMs: integerOption(raw, "heartbeatIntervalMs", "heartbeat-interval-ms"),
    rebalanceTimeoutMs: integerOption(raw, "rebalanceTimeoutMs", "rebalance-timeout-ms"),
    maxBytesPerPartition: integerOption(raw, "maxBytesPerPartition", "max-bytes-per-partition"),
    maxBytesPerFetch: integerOption(raw, "maxBytesPerFetch", "max-bytes-per-fetch"),
    shutdownTimeoutMs: integerOption(raw, "shutdownTimeoutMs", "shutdown-timeout-ms"),
    createTables: raw.migrate !== false,
    ...kafkaSecurityFrom(raw, env),
  };
  for (const key of Object.keys(options)) if (options[key] === undefined) delete options[key];
  return options as WorkerOptions;
}
