import { SinkError } from "../errors.js";

/**
 * ClickHouse exception codes worth retrying: the same statement can succeed once load, memory,
 * parts, replicas or the network recover. Every other engine code (syntax, unknown table or
 * column, type mismatch, cannot parse, access) is deterministic for the same input.
 */
const RETRIABLE_CLICKHOUSE_CODES: ReadonlySet<number> = new Set([
  159, // TIMEOUT_EXCEEDED
  160, // TOO_SLOW
  173, // CANNOT_ALLOCATE_MEMORY
  201, // QUOTA_EXCEEDED
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  203, // NO_FREE_CONNECTION
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  225, // NO_ZOOKEEPER
  236, // ABORTED
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY (replica lost its coordination session)
  243, // NOT_ENOUGH_SPACE
  252, // TOO_MANY_PARTS (merges behind); but see TOO_MANY_PARTITIONS_IN_INSERT
  279, // ALL_CONNECTION_TRIES_FAILED
  285, // TOO_FEW_LIVE_REPLICAS
  286, // UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE
  319, // UNKNOWN_STATUS_OF_INSERT
  394, // QUERY_WAS_CANCELLED
  425, // SYSTEM_ERROR
  439, // CANNOT_SCHEDULE_TASK
  473, // DEADLOCK_AVOIDED
  745, // SERVER_OVERLOADED
  999, // KEEPER_EXCEPTION
  1000, // POCO_EXCEPTION (connection-level)
]);

/** Node and undici error codes of a connection that failed or dropped. */
const RETRIABLE_SYSTEM_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** chdb error classes that say "try again" rather than "this statement is wrong". */
const RETRIABLE_CHDB_CODES: ReadonlySet<string> = new Set(["CHDB_TIMEOUT", "CHDB_ABORT"]);
/** chdb error classes of a misused or closed engine: retrying cannot help. */
const FATAL_CHDB_CODES: ReadonlySet<string> = new Set([
  "CHDB_CLOSED",
  "CHDB_CONNECTION",
  "CHDB_BIND",
  "CHDB_COMPILE",
  "CHDB_PLATFORM",
  "CHDB_ABI",
]);

const CODE_IN_MESSAGE = /\bCode: (\d+)\b/;

/**
 * Code 252 also reports an INSERT block spanning more partitions than `max_partitions_per_insert_block`:
 * the same rows fail every time, so it is a row problem (split the batch), not a transient one.
 */
const TOO_MANY_PARTITIONS_IN_INSERT = /too many partitions for (a )?single insert block/i;

function field(error: object, name: string): unknown {
  return (error as Record<string, unknown>)[name];
}

function clickhouseCodeOf(error: object, message: string): number | null {
  const fromChdb = field(error, "clickhouseCode");
  if (typeof fromChdb === "number") return fromChdb;
  const code = field(error, "code");
  if (typeof code === "string" && /^\d+$/.test(code)) return Number(code);
  const match = CODE_IN_MESSAGE.exec(message);
  return match?.[1] === undefined ? null : Number(match[1]);
}

export function isRetriableClickHouseCode(code: number): boolean {
  return RETRIABLE_CLICKHOUSE_CODES.has(code);
}

function isRetriableWithoutEngineCode(error: object, message: string): boolean {
  const code = field(error, "code");
  if (typeof code === "string") {
    if (RETRIABLE_SYSTEM_CODES.has(code) || RETRIABLE_CHDB_CODES.has(code)) return true;
    if (FATAL_CHDB_CODES.has(code) || code.startsWith("CHDB_")) return false;
  }
  if (error instanceof TypeError || error instanceof RangeError) return false;
  if (/timeout|socket hang up|network|connection/i.test(message)) return true;
  const cause = field(error, "cause");
  if (typeof cause === "object" && cause !== null) return isRetriableWithoutEngineCode(cause, String(cause));
  return true;
}

/**
 * Wraps any failure of a sink call into a SinkError. Engine errors are classified by their
 * ClickHouse code; errors without one by their system code (connection, timeout), with unknown
 * transport failures treated as transient.
 */
export function toSinkError(error: unknown, operation: string): SinkError {
  if (error instanceof SinkError) return error;
  if (typeof error !== "object" || error === null) {
    return new SinkError(`${operation} failed: ${String(error)}`, { retriable: true, cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  const clickhouseCode = clickhouseCodeOf(error, message);
  const retriable =
    clickhouseCode === null
      ? isRetriableWithoutEngineCode(error, message)
      : isRetriableClickHouseCode(clickhouseCode) && !TOO_MANY_PARTITIONS_IN_INSERT.test(message);
  return new SinkError(`${operation} failed: ${firstLine(message)}`, {
    retriable,
    ...(clickhouseCode === null ? {} : { clickhouseCode }),
    cause: error,
  });
}

function firstLine(message: string): string {
  const line = message.split("\n", 1)[0] ?? message;
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}
