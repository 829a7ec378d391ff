/**
 * The one error hierarchy of tracehouse. Callers decide retry, dead-letter or
 * commit from `retriable` alone.
 */
export const ErrorCode = {
  Config: "CONFIG",
  Decode: "DECODE",
  Encode: "ENCODE",
  Validation: "VALIDATION",
  Kafka: "KAFKA",
  Sink: "SINK",
  Query: "QUERY",
  Migration: "MIGRATION",
  Spool: "SPOOL",
  Timeout: "TIMEOUT",
  Closed: "CLOSED",
  Internal: "INTERNAL",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface TracehouseErrorOptions {
  readonly code?: ErrorCode;
  readonly retriable?: boolean;
  readonly cause?: unknown;
}

export class TracehouseError extends Error {
  override readonly name: string = "TracehouseError";
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(message: string, options: TracehouseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? ErrorCode.Internal;
    this.retriable = options.retriable ?? true;
  }
}

export class NonRetriableError extends TracehouseError {
  override readonly name: string = "NonRetriableError";

  constructor(message: string, options: Omit<TracehouseErrorOptions, "retriable"> = {}) {
    super(message, { ...options, retriable: false });
  }
}

/** Invalid or contradictory options, raised when an entry point is created. */
export class ConfigError extends NonRetriableError {
  override readonly name: string = "ConfigError";

  constructor(message: string, options: { readonly cause?: unknown } = {}) {
    super(message, { ...options, code: ErrorCode.Config });
  }
}

export function isTracehouseError(value: unknown): value is TracehouseError {
  return value instanceof TracehouseError;
}

/** True when the error says to try again; unknown errors are treated as transient. */
export function isRetriable(error: unknown): boolean {
  return isTracehouseError(error) ? error.retriable : true;
}
