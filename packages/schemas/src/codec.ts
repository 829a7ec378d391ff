import { DecodeError, DecodeErrorReason, ValidationError } from "./errors.js";
import type { ValidationIssue } from "./errors.js";
import { isEventId, isSpanId, isTraceId } from "./ids.js";
import { isRecordType } from "./record-type.js";
import type { RecordType } from "./record-type.js";
import type { RecordInputOf, TracehouseRecord } from "./records.js";
import type { AvroType } from "./internal/avro.js";
import { HEADER_BYTES, MARKER_0, MARKER_1 } from "./internal/registry.js";
import type { SchemaVersion, VersionReader } from "./internal/registry.js";
import { registry } from "./internal/default-registry.js";
import { runtimeReaderCount, runtimeReaderOf } from "./internal/runtime-readers.js";
import { writeSingleObject } from "./internal/single-object.js";

/** A decoded record with its type and the schema version it was written with (0: a writer schema registered at run time). */
export type DecodedRecord = TracehouseRecord & { readonly version: number };

function envelopeIssues(record: Record<string, unknown>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (typeof record.event_id === "string" && !isEventId(record.event_id)) {
    issues.push({ path: "event_id", message: "must be a lowercase canonical UUID (UUIDv7)" });
  }
  if (typeof record.trace_id === "string" && !isTraceId(record.trace_id)) {
    issues.push({ path: "trace_id", message: "must be 32 lowercase hex characters, not all zero" });
  }
  if (typeof record.span_id === "string" && !isSpanId(record.span_id)) {
    issues.push({ path: "span_id", message: "must be 16 lowercase hex characters, not all zero" });
  }
  const parent = record.parent_span_id;
  if (typeof parent === "string" && !isSpanId(parent)) {
    issues.push({
      path: "parent_span_id",
      message: "must be null or 16 lowercase hex characters, not all zero",
    });
  }
  return issues;
}

function schemaIssues(avroType: AvroType, value: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  avroType.isValid(value, {
    errorHook: (path, actual, type) => {
      const expected = type.typeName === "union:unwrapped" ? JSON.stringify(type.schema()) : type.typeName;
      issues.push({ path: path.join("."), message: `expected ${expected}, got ${describe(actual)}` });
    },
  });
  return issues;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value.length > 40 ? `string "${value.slice(0, 40)}…"` : `"${value}"`;
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${String(value)}`;
  return typeof value;
}

/** Options of {@link encodeRecord}. */
export interface EncodeOptions {
  /**
   * The record's ids were made by `newEventId` or taken from a `TraceContext`, never given by a
   * caller: their format is known, and checking it again is skipped.
   */
  readonly idsChecked?: boolean;
}

/** Encodes with a given schema version; shared by `encodeRecord` and fixture tooling. */
export function encodeWithVersion(
  recordType: string,
  version: SchemaVersion,
  record: unknown,
  options?: EncodeOptions,
): Buffer {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new ValidationError(recordType, [
      { path: "", message: `expected a record, got ${describe(record)}` },
    ]);
  }
  if (options?.idsChecked !== true) {
    const envelope = envelopeIssues(record as Record<string, unknown>);
    if (envelope.length > 0) throw new ValidationError(recordType, envelope);
  }
  try {
    return writeSingleObject(version.header, version.avroType, record);
  } catch (cause) {
    const issues = schemaIssues(version.avroType, record);
    throw new ValidationError(
      recordType,
      issues.length > 0 ? issues : [{ path: "", message: String(cause) }],
      { cause },
    );
  }
}

/**
 * Encodes a record with the current schema of its type, as an Avro single-object
 * (C3 01, CRC-64-AVRO fingerprint, binary body). Fields with a default may be omitted.
 * Throws ValidationError (non-retriable, with the field path) and returns nothing
 * when the record does not match.
 */
export function encodeRecord<T extends RecordType>(
  type: T,
  record: RecordInputOf<T>,
  options?: EncodeOptions,
): Buffer {
  if (!isRecordType(type)) {
    throw new ValidationError(String(type), [{ path: "", message: `unknown record type ${String(type)}` }]);
  }
  return encodeWithVersion(type, registry.current[type], record, options);
}

function findReader(bytes: Buffer): VersionReader | undefined {
  const lo = bytes.readUInt32LE(2);
  const hi = bytes.readUInt32LE(6);
  for (const reader of registry.readers) {
    if (reader.fingerprintLo === lo && reader.fingerprintHi === hi) return reader;
  }
  return runtimeReaderCount() === 0
    ? undefined
    : runtimeReaderOf(bytes.toString("hex", 2, HEADER_BYTES))?.reader;
}

/** How errors name a record; made only for an error, not for every record decoded. */
function whatRecord(recordType: RecordType, version: number): string {
  return `${recordType} v${version} record`;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decodes one single-object encoded record, written with any shipped schema version or a
 * writer schema registered with `registerWriterSchema`, into the current schema of its type. Throws DecodeError (non-retriable) with a
 * `reason`, never a partial record.
 */
export function decodeRecord(bytes: Uint8Array | null | undefined): DecodedRecord {
  if (bytes === null || bytes === undefined || bytes.length === 0) {
    throw new DecodeError(DecodeErrorReason.Empty, "no bytes to decode");
  }
  if (!(bytes instanceof Uint8Array)) {
    throw new DecodeError(DecodeErrorReason.BadMarker, `expected bytes, got ${describe(bytes)}`);
  }
  const buf = asBuffer(bytes);
  if (buf[0] !== MARKER_0 || (buf.length > 1 && buf[1] !== MARKER_1)) {
    throw new DecodeError(
      DecodeErrorReason.BadMarker,
      "not an Avro single-object record: marker is not C3 01",
    );
  }
  if (buf.length < HEADER_BYTES) {
    throw new DecodeError(
      DecodeErrorReason.Truncated,
      `${buf.length} bytes: shorter than the 10-byte header`,
    );
  }
  const reader = findReader(buf);
  if (reader === undefined) {
    throw new DecodeError(
      DecodeErrorReason.UnknownFingerprint,
      `unknown writer schema fingerprint ${buf.toString("hex", 2, HEADER_BYTES)}`,
    );
  }
  const { recordType, version } = reader;
  let decoded: { value: unknown; offset: number };
  try {
    decoded = reader.readerType.decode(buf, HEADER_BYTES, reader.resolver);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new DecodeError(
      DecodeErrorReason.Corrupt,
      `corrupt ${whatRecord(recordType, version)}: ${detail}`,
      {
        cause,
        recordType,
        version,
      },
    );
  }
  if (decoded.offset < 0) {
    throw new DecodeError(DecodeErrorReason.Truncated, `truncated ${whatRecord(recordType, version)}`, {
      recordType,
      version,
    });
  }
  if (decoded.offset !== buf.length) {
    throw new DecodeError(
      DecodeErrorReason.TrailingBytes,
      `${buf.length - decoded.offset} bytes after the ${whatRecord(recordType, version)}`,
      {
        recordType,
        version,
      },
    );
  }
  return { type: recordType, version, record: decoded.value } as DecodedRecord;
}
