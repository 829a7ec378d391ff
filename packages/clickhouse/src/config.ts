import path from "node:path";
import { ConfigError, integerOption, noopLogger, readOptionFile, secretOption } from "@tracehouse/schemas";
import type { Logger } from "@tracehouse/schemas";
import { assertIdentifier } from "./internal/identifiers.js";
import type { RetryPolicy } from "./internal/retry.js";
import { SinkKind } from "./sink.js";

export type Environment = Readonly<Record<string, string | undefined>>;

export interface SinkOptions {
  /** ClickHouse HTTP(S) endpoint. Default: env CLICKHOUSE_URL. When present, the sink is HTTP. */
  readonly url?: string;
  /** Default: env CLICKHOUSE_USER, else the user in `url`, else "default". */
  readonly username?: string;
  /** Default: env CLICKHOUSE_PASSWORD, else the password in `url`, else "". Never logged. */
  readonly password?: string;
  /** File holding the password (one trailing newline dropped); contradicts `password`. Default: env CLICKHOUSE_PASSWORD_FILE. */
  readonly passwordFile?: string;
  /** PEM CA certificate(s) an `https:` server's certificate must chain to, instead of Node's roots. Default: Node's roots. */
  readonly ca?: string | Buffer;
  /** File holding `ca`; contradicts `ca`. Default: env CLICKHOUSE_CA_FILE. */
  readonly caFile?: string;
  /** Embedded engine data directory (one per process). Default: "./.tracehouse/chdb". */
  readonly dataDir?: string;
  /**
   * Embedded engine connections; each call runs on the least busy one, so inserts into different
   * tables (and queries) run in parallel instead of queueing on one connection. With more than one, a
   * query may see an insert's rows before the insert's promise settles. Default: 1.
   */
  readonly sessions?: number;
  /**
   * Embedded engine: the MergeTree `index_granularity_bytes` of its tables, the most uncompressed bytes
   * in one granule of a part. A merge holds one granule of every part it merges in memory, and the
   * aggregate-state tables (trace_index, execution_summary) hold a few kB per row in memory for
   * tens of bytes on disk, so this bounds the engine's memory while it ingests (ClickHouse's own
   * 10 MiB let one merge take over 300 MB). The engine is process-wide: the first embedded sink
   * opened in a process sets it. Default: 262144 (256 KiB).
   */
  readonly indexGranularityBytes?: number;
  /** Database of the tracehouse tables. Default: "tracehouse". */
  readonly database?: string;
  /** HTTP request timeout. Default: 30000. */
  readonly requestTimeoutMs?: number;
  /** gzip request and response bodies over HTTP. Default: true. */
  readonly compression?: boolean;
  /** HTTP keep-alive connection pool size. Default: 10. */
  readonly maxOpenConnections?: number;
  /** Retries of a retriable failure after the first attempt. Default: 3. */
  readonly maxRetries?: number;
  /** First backoff ceiling; doubles per attempt (full jitter). Default: 100. */
  readonly retryBaseDelayMs?: number;
  /** Backoff ceiling. Default: 5000. */
  readonly retryMaxDelayMs?: number;
  /**
   * Every statement runs with `readonly=1` (SELECT only: no writes, DDL, settings changes or table
   * functions such as file() and url()). Default: false.
   */
  readonly readOnly?: boolean;
  /** `max_execution_time` of every statement, in seconds; 0 is no limit. Default: 0. */
  readonly maxExecutionTimeS?: number;
  /** Default: a logger that drops everything. */
  readonly logger?: Logger;
  /** Where CLICKHOUSE_* variables are read from. Default: process.env. */
  readonly env?: Environment;
}

export type HttpSinkOptions = Omit<SinkOptions, "dataDir">;
export type EmbeddedSinkOptions = Pick<
  SinkOptions,
  | "dataDir"
  | "sessions"
  | "indexGranularityBytes"
  | "database"
  | "maxRetries"
  | "retryBaseDelayMs"
  | "retryMaxDelayMs"
  | "readOnly"
  | "maxExecutionTimeS"
  | "logger"
>;

export const DEFAULT_DATABASE = "tracehouse";
export const DEFAULT_DATA_DIR = "./.tracehouse/chdb";
export const DEFAULT_SESSIONS = 1;
export const DEFAULT_INDEX_GRANULARITY_BYTES = 256 * 1024;
/** ClickHouse's `min_index_granularity_bytes`: a smaller granule is refused. */
const MIN_INDEX_GRANULARITY_BYTES = 1024;

interface CommonSinkConfig {
  readonly database: string;
  readonly retry: RetryPolicy;
  readonly readOnly: boolean;
  readonly maxExecutionTimeS: number;
  readonly logger: Logger;
}

export interface HttpSinkConfig extends CommonSinkConfig {
  readonly kind: typeof SinkKind.Http;
  /** Endpoint without credentials: safe to log. */
  readonly url: string;
  readonly username: string;
  /** Non-enumerable: logging the config does not show it. */
  readonly password: string;
  /** Custom CA of an `https:` endpoint; null for Node's roots. */
  readonly ca: Buffer | null;
  readonly requestTimeoutMs: number;
  readonly compression: boolean;
  readonly maxOpenConnections: number;
}

export interface EmbeddedSinkConfig extends CommonSinkConfig {
  readonly kind: typeof SinkKind.Embedded;
  /** Absolute path. */
  readonly dataDir: string;
  readonly sessions: number;
  readonly indexGranularityBytes: number;
}

export type SinkConfig = HttpSinkConfig | EmbeddedSinkConfig;

function resolveCommon(options: SinkOptions): CommonSinkConfig {
  const retryBaseDelayMs = integerOption(options.retryBaseDelayMs, 100, "retryBaseDelayMs", 0);
  const retryMaxDelayMs = integerOption(options.retryMaxDelayMs, 5000, "retryMaxDelayMs", 0);
  if (retryMaxDelayMs < retryBaseDelayMs) {
    throw new ConfigError(
      `retryMaxDelayMs (${retryMaxDelayMs}) is below retryBaseDelayMs (${retryBaseDelayMs})`,
    );
  }
  return {
    database: assertIdentifier(options.database ?? DEFAULT_DATABASE, "database"),
    retry: {
      maxRetries: integerOption(options.maxRetries, 3, "maxRetries", 0),
      retryBaseDelayMs,
      retryMaxDelayMs,
    },
    readOnly: options.readOnly ?? false,
    maxExecutionTimeS: integerOption(options.maxExecutionTimeS, 0, "maxExecutionTimeS", 0),
    logger: options.logger ?? noopLogger,
  };
}

/** The session settings of `readOnly` and `maxExecutionTimeS` (the time limit first: readonly=1 freezes settings). */
export function sessionSettings(config: {
  readonly readOnly: boolean;
  readonly maxExecutionTimeS: number;
}): Readonly<Record<string, number>> {
  return {
    ...(config.maxExecutionTimeS > 0 ? { max_execution_time: config.maxExecutionTimeS } : {}),
    ...(config.readOnly ? { readonly: 1 } : {}),
  };
}

export function resolveHttpSinkConfig(options: HttpSinkOptions = {}): HttpSinkConfig {
  const env = options.env ?? process.env;
  const raw = options.url ?? env["CLICKHOUSE_URL"];
  if (raw === undefined || raw === "") {
    throw new ConfigError("the HTTP sink needs a url (option url or env CLICKHOUSE_URL)");
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw new ConfigError("url is not a valid URL", { cause });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`url must be http: or https:, got ${url.protocol}`);
  }
  const urlUser = decodeURIComponent(url.username);
  const urlPassword = decodeURIComponent(url.password);
  url.username = "";
  url.password = "";
  const ca = resolveCa(options, env, url);
  const config = {
    kind: SinkKind.Http,
    ...resolveCommon(options),
    url: url.toString().replace(/\/$/, ""),
    username: options.username ?? env["CLICKHOUSE_USER"] ?? (urlUser || "default"),
    ca,
    requestTimeoutMs: integerOption(options.requestTimeoutMs, 30_000, "requestTimeoutMs", 1),
    compression: options.compression ?? true,
    maxOpenConnections: integerOption(options.maxOpenConnections, 10, "maxOpenConnections", 1),
  };
  return Object.defineProperty(config, "password", {
    value: resolvePassword(options, env) ?? urlPassword,
    enumerable: false,
  }) as HttpSinkConfig;
}

/** The password from the options, else CLICKHOUSE_PASSWORD or the file CLICKHOUSE_PASSWORD_FILE names. */
function resolvePassword(options: HttpSinkOptions, env: Environment): string | undefined {
  if (options.password !== undefined || options.passwordFile !== undefined) {
    return secretOption(options.password, options.passwordFile, "password");
  }
  return secretOption(
    env["CLICKHOUSE_PASSWORD"],
    env["CLICKHOUSE_PASSWORD_FILE"] || undefined,
    "CLICKHOUSE_PASSWORD",
  );
}

function resolveCa(options: HttpSinkOptions, env: Environment, url: URL): Buffer | null {
  if (options.ca !== undefined && options.caFile !== undefined) {
    throw new ConfigError("give either ca or caFile, not both");
  }
  const file =
    options.caFile ?? (options.ca === undefined ? env["CLICKHOUSE_CA_FILE"] || undefined : undefined);
  const ca =
    file === undefined
      ? options.ca
      : readOptionFile(file, options.caFile === undefined ? "CLICKHOUSE_CA_FILE" : "caFile");
  if (ca === undefined) return null;
  if (url.protocol !== "https:") throw new ConfigError("a CA applies to an https: url only");
  return Buffer.from(ca);
}

export function resolveEmbeddedSinkConfig(options: EmbeddedSinkOptions = {}): EmbeddedSinkConfig {
  const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
  if (dataDir === "" || dataDir === ":memory:") {
    throw new ConfigError("dataDir must be a directory path");
  }
  return {
    kind: SinkKind.Embedded,
    ...resolveCommon(options),
    dataDir: path.resolve(dataDir),
    sessions: integerOption(options.sessions, DEFAULT_SESSIONS, "sessions", 1),
    indexGranularityBytes: integerOption(
      options.indexGranularityBytes,
      DEFAULT_INDEX_GRANULARITY_BYTES,
      "indexGranularityBytes",
      MIN_INDEX_GRANULARITY_BYTES,
    ),
  };
}

/** HTTP when a url is given (option or CLICKHOUSE_URL), else embedded; an explicit url with an explicit dataDir is a contradiction. */
export function resolveSinkConfig(options: SinkOptions = {}): SinkConfig {
  if (options.url !== undefined && options.dataDir !== undefined) {
    throw new ConfigError("give either url (HTTP server) or dataDir (embedded engine), not both");
  }
  const env = options.env ?? process.env;
  const useHttp =
    options.url !== undefined || (options.dataDir === undefined && (env["CLICKHOUSE_URL"] ?? "") !== "");
  return useHttp ? resolveHttpSinkConfig(options) : resolveEmbeddedSinkConfig(options);
}
