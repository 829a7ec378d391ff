import {
  DEFAULT_DATA_DIR,
  DEFAULT_DATABASE,
  DEFAULT_DEDUP_WINDOW,
  DEFAULT_TTL_DAYS,
} from "@tracehouse/clickhouse";
import type { SchemaOptions, SinkOptions } from "@tracehouse/clickhouse";
import type { Logger } from "@tracehouse/schemas";
import { ConfigError } from "@tracehouse/schemas";
import { attributeOf, optionTable, pick, readOptions, secretOf } from "./spec.js";
import type { Environment, RawOptions, Sources } from "./spec.js";

/** ClickHouse: where rows go (a server over HTTP, else the embedded engine in a directory). */
export const CLICKHOUSE = optionTable("ClickHouse", {
  url: {
    type: "text",
    flag: "clickhouse-url",
    arg: "<url>",
    env: "CLICKHOUSE_URL",
    defaultText: "none, the embedded engine",
    doc: "ClickHouse HTTP endpoint; when set, rows go to that server",
  },
  username: {
    type: "text",
    flag: "clickhouse-user",
    arg: "<name>",
    env: "CLICKHOUSE_USER",
    defaultText: '"default", or the user in the URL',
    doc: "ClickHouse user",
  },
  passwordFile: {
    type: "text",
    flag: "clickhouse-password-file",
    arg: "<path>",
    env: "CLICKHOUSE_PASSWORD_FILE",
    defaultText: "none, an empty password",
    doc: "file holding the ClickHouse password, e.g. a mounted Secret",
  },
  password: {
    type: "secret",
    env: "CLICKHOUSE_PASSWORD",
    doc: "ClickHouse password",
    file: "passwordFile",
  },
  caFile: {
    type: "text",
    flag: "clickhouse-ca-file",
    arg: "<path>",
    env: "CLICKHOUSE_CA_FILE",
    defaultText: "Node's bundled roots",
    doc: "PEM CA certificate(s) an https: server's certificate must chain to",
  },
  dataDir: {
    type: "text",
    flag: "data-dir",
    arg: "<dir>",
    env: "TRACEHOUSE_DATA_DIR",
    // applied by the sink, and only without a URL
    defaultText: JSON.stringify(DEFAULT_DATA_DIR),
    doc: "embedded engine data directory, used when no URL is given; one process at a time",
  },
  database: {
    type: "text",
    flag: "database",
    arg: "<name>",
    env: "TRACEHOUSE_DATABASE",
    default: DEFAULT_DATABASE,
    doc: "database of the tracehouse tables",
  },
});

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const LOGGING = optionTable("Logging", {
  logLevel: {
    type: "choice",
    flag: "log-level",
    arg: "<level>",
    env: "TRACEHOUSE_LOG_LEVEL",
    choices: LOG_LEVELS,
    default: "info",
    doc: "log level of the JSON lines on stderr",
  },
});

/** Migrations: `migrate`, and the commands that apply them at start. */
export const SCHEMA = optionTable("Migrations", {
  cluster: {
    type: "text",
    flag: "cluster",
    arg: "<name>",
    env: "TRACEHOUSE_CLUSTER",
    defaultText: "none",
    doc: "ClickHouse cluster: ON CLUSTER DDL, Replicated engines, rows through the Distributed _all tables",
  },
  ttlDays: {
    type: "integer",
    flag: "ttl-days",
    arg: "<days>",
    env: "TRACEHOUSE_TTL_DAYS",
    default: DEFAULT_TTL_DAYS,
    none: "none",
    doc: 'days rows are kept, or "none"',
  },
  dedupWindow: {
    type: "integer",
    flag: "dedup-window",
    arg: "<blocks>",
    env: "TRACEHOUSE_DEDUP_WINDOW",
    default: DEFAULT_DEDUP_WINDOW,
    doc: "insert blocks remembered for deduplication per table",
  },
});

/** `--cluster` alone, for the commands that read (rows through the Distributed tables). */
export const CLUSTER = pick(SCHEMA, ["cluster"], "ClickHouse");

export function schemaOptionsFrom(
  raw: RawOptions,
  sources: Sources = {},
): Omit<SchemaOptions, "logger" | "database"> {
  return readOptions(SCHEMA, raw, sources);
}

/**
 * The sink options from flags and env. A URL from the environment yields to an explicit
 * --data-dir (and the other way round); both given as flags is a contradiction.
 */
export function sinkOptionsFrom(
  raw: RawOptions,
  sources: Sources,
  logger: Logger,
  env: Environment = process.env,
): SinkOptions {
  const { url, dataDir, passwordFile: _file, ...values } = readOptions(CLICKHOUSE, raw, sources);
  const { value: password, file: passwordFile } = secretOf(CLICKHOUSE, "password", raw, env);
  let where: Pick<SinkOptions, "url" | "dataDir"> = { url, dataDir };
  if (url !== undefined && dataDir !== undefined) {
    const urlFromCli = sources[attributeOf(CLICKHOUSE.options.url)] === "cli";
    const dirFromCli = sources[attributeOf(CLICKHOUSE.options.dataDir)] === "cli";
    if (urlFromCli && dirFromCli)
      throw new ConfigError("give either --clickhouse-url or --data-dir, not both");
    where = dirFromCli ? { dataDir } : { url };
  }
  const options: Record<string, unknown> = { ...values, ...where, password, passwordFile };
  for (const key of Object.keys(options)) if (options[key] === undefined) delete options[key];
  // the sink reads nothing from process.env: every value came through the table above
  return { ...(options as SinkOptions), logger, env: {} };
}
