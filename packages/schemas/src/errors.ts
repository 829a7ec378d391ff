import type { RecordType } from "./record-type.js";

/**
 * The one error hierarchy of tracehouse. Callers decide retry, dead-letter or
 * commit from `retriable` alone.
 */
export const ErrorCode = {
  Config: "CONFIG",
  Decode: "DECODE",
  Encode: "ENCODE",
  Validation: "VALIDATION",
  Schema: "SCHEMA",
  Kafka: "KAFKA",
  Sink: "SINK",
  Query: "QUERY",
  Migration: "MIGRATION",
  Spool: "SPOOL",
  Timeout: "TIMEOUT",
  Closed: "CLOSED",
  Security: "SECURITY",
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

/** Why a secured connection was refused. */
export const SecurityErrorReason = {
  /** The server rejected the credentials (wrong user, password or token, or a mechanism it does not enable). */
  Authentication: "authentication",
  /** The server's certificate does not chain to a trusted CA (or is expired). */
  UntrustedCertificate: "untrusted_certificate",
  /** The server's certificate is valid but does not name the host connected to. */
  HostnameMismatch: "hostname_mismatch",
  /** The server refused the client certificate, or required one and got none. */
  ClientCertificate: "client_certificate",
  /** The TLS handshake failed otherwise, e.g. TLS spoken to a plaintext port. */
  Handshake: "handshake",
} as const;
export type SecurityErrorReason = (typeof SecurityErrorReason)[keyof typeof SecurityErrorReason];

/**
 * A connection refused for a security reason: retrying with the same settings cannot help. The
 * message names the endpoint and the cause, never a secret.
 */
export class SecurityError extends NonRetriableError {
  override readonly name: string = "SecurityError";
  readonly reason: SecurityErrorReason;
  /** `host:port` (or URL) that refused, when known. */
  readonly endpoint: string | null;

  constructor(
    reason: SecurityErrorReason,
    message: string,
    options: { readonly endpoint?: string | null; readonly cause?: unknown } = {},
  ) {
    super(message, { code: ErrorCode.Security, cause: options.cause });
    this.reason = reason;
    this.endpoint = options.endpoint ?? null;
  }
}

export function isTracehouseError(value: unknown): value is TracehouseError {
  return value instanceof TracehouseError;
}

/** True when the error says to try again; unknown errors are treated as transient. */
export function isRetriable(error: unknown): boolean {
  return isTracehouseError(error) ? error.retriable : true;
}

/** Why bytes could not be decoded into a record. */
export const DecodeErrorReason = {
  /** No bytes at all (null, undefined or zero length), e.g. a Kafka tombstone. */
  Empty: "empty",
  /** Not a single-object encoded Avro record: the first two bytes are not C3 01. */
  BadMarker: "bad_marker",
  /** The writer schema's fingerprint matches no known schema version. */
  UnknownFingerprint: "unknown_fingerprint",
  /** The bytes end before the record does. */
  Truncated: "truncated",
  /** The body does not follow the writer schema (bad union or enum index, unsafe long, ...). */
  Corrupt: "corrupt",
  /** Bytes remain after the record. */
  TrailingBytes: "trailing_bytes",
} as const;
export type DecodeErrorReason = (typeof DecodeErrorReason)[keyof typeof DecodeErrorReason];

export interface DecodeErrorOptions {
  readonly cause?: unknown;
  /** Record type and writer version named by the fingerprint, when it was known. */
  readonly recordType?: RecordType;
  readonly version?: number;
}

/** Bytes that can never be decoded: dead-letter them, never retry. */
export class DecodeError extends NonRetriableError {
  override readonly name: string = "DecodeError";
  readonly reason: DecodeErrorReason;
  readonly recordType: RecordType | null;
  readonly version: number | null;

  constructor(reason: DecodeErrorReason, message: string, options: DecodeErrorOptions = {}) {
    super(message, { code: ErrorCode.Decode, cause: options.cause });
    this.reason = reason;
    this.recordType = options.recordType ?? null;
    this.version = options.version ?? null;
  }
}

/** One field that does not match its schema; `path` is dotted (`events.0.time`), empty for the record itself. */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

/** A record that does not match its schema or the envelope rules; nothing was written. */
export class ValidationError extends NonRetriableError {
  override readonly name: string = "ValidationError";
  /** Record type that was being encoded, as given by the caller. */
  readonly recordType: string;
  /** Path of the first offending field. */
  readonly path: string;
  readonly issues: readonly ValidationIssue[];

  constructor(
    recordType: string,
    issues: readonly ValidationIssue[],
    options: { readonly cause?: unknown } = {},
  ) {
    const first = issues[0] ?? { path: "", message: "invalid record" };
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    super(`invalid ${recordType} record: ${first.path || "<record>"}: ${first.message}${more}`, {
      ...options,
      code: ErrorCode.Validation,
    });
    this.recordType = recordType;
    this.path = first.path;
    this.issues = issues;
  }
}

/** Why a writer schema met at run time cannot be used to read records. */
export const SchemaResolutionReason = {
  /** Not JSON, not a valid Avro schema, or larger than a writer schema may be. */
  Invalid: "invalid",
  /** Its record name is not the name of any record type. */
  UnknownRecord: "unknown_record",
  /** The reader schema of its record type cannot read it (Avro schema resolution fails). */
  Incompatible: "incompatible",
  /** Its fingerprint is not the one it was published under. */
  FingerprintMismatch: "fingerprint_mismatch",
  /** The bound on writer schemas registered at run time is reached. */
  TooMany: "too_many",
} as const;
export type SchemaResolutionReason = (typeof SchemaResolutionReason)[keyof typeof SchemaResolutionReason];

/** A writer schema that was rejected: records written with it stay unreadable. */
export class SchemaResolutionError extends NonRetriableError {
  override readonly name: string = "SchemaResolutionError";
  readonly reason: SchemaResolutionReason;
  /** Record type the schema claimed by its name, when one matched. */
  readonly recordType: RecordType | null;

  constructor(
    reason: SchemaResolutionReason,
    message: string,
    options: { readonly cause?: unknown; readonly recordType?: RecordType } = {},
  ) {
    super(message, { code: ErrorCode.Schema, cause: options.cause });
    this.reason = reason;
    this.recordType = options.recordType ?? null;
  }
}
