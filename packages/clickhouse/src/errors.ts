import { ErrorCode, NonRetriableError, TracehouseError, isRetriable } from "@tracehouse/schemas";

export interface SinkErrorOptions {
  readonly retriable: boolean;
  /** The ClickHouse exception code (e.g. 62 for SYNTAX_ERROR), when the engine reported one. */
  readonly clickhouseCode?: number;
  readonly cause?: unknown;
}

/** A failed insert, query or command; `retriable` says whether the same call may succeed later. */
export class SinkError extends TracehouseError {
  override readonly name: string = "SinkError";
  readonly clickhouseCode: number | null;

  constructor(message: string, options: SinkErrorOptions) {
    super(message, { code: ErrorCode.Sink, retriable: options.retriable, cause: options.cause });
    this.clickhouseCode = options.clickhouseCode ?? null;
  }
}

/** A migration that cannot be applied, or an applied migration whose file has since changed. */
export class MigrationError extends NonRetriableError {
  override readonly name: string = "MigrationError";

  constructor(message: string, options: { readonly cause?: unknown } = {}) {
    super(message, { ...options, code: ErrorCode.Migration });
  }
}

export function isSinkError(value: unknown): value is SinkError {
  return value instanceof SinkError;
}

/** What an insert failure says about its rows: decides retry, split and dead-letter, or stop. */
export const InsertFailure = {
  /** The engine rejects some row (type, parse, constraint): split the batch, dead-letter the row. */
  Row: "row",
  /** Fails whatever the rows (missing table, column, permission): stop. */
  Structural: "structural",
  /** Transient, but the rows may be the cause (memory, time, parts): retry, then split. */
  Load: "load",
  /** Transient and unrelated to the rows (unreachable, network, replicas): retry, then stop. */
  Outage: "outage",
} as const;
export type InsertFailure = (typeof InsertFailure)[keyof typeof InsertFailure];

/** ClickHouse codes of an insert that fails whatever the rows. */
const STRUCTURAL_CODES: ReadonlySet<number> = new Set([
  16, // NO_SUCH_COLUMN_IN_TABLE
  36, // BAD_ARGUMENTS
  47, // UNKNOWN_IDENTIFIER
  60, // UNKNOWN_TABLE
  81, // UNKNOWN_DATABASE
  115, // UNKNOWN_SETTING
  164, // READONLY
  192, // UNKNOWN_USER
  193, // WRONG_PASSWORD
  497, // ACCESS_DENIED
  516, // AUTHENTICATION_FAILED
]);

/** Transient codes a large or heavy batch can cause by itself. */
const LOAD_CODES: ReadonlySet<number> = new Set([
  159, // TIMEOUT_EXCEEDED
  160, // TOO_SLOW
  173, // CANNOT_ALLOCATE_MEMORY
  241, // MEMORY_LIMIT_EXCEEDED
]);

export function classifyInsertFailure(error: unknown): InsertFailure {
  if (!isSinkError(error)) return isRetriable(error) ? InsertFailure.Outage : InsertFailure.Structural;
  const code = error.clickhouseCode;
  if (error.retriable)
    return code !== null && LOAD_CODES.has(code) ? InsertFailure.Load : InsertFailure.Outage;
  return code === null || STRUCTURAL_CODES.has(code) ? InsertFailure.Structural : InsertFailure.Row;
}
