import { SchemaResolutionError, SchemaResolutionReason } from "./errors.js";
import { RECORD_TYPES } from "./record-type.js";
import type { RecordType } from "./record-type.js";
import { createAvroType, fingerprintOf } from "./internal/avro.js";
import type { AvroType } from "./internal/avro.js";
import { registry } from "./internal/default-registry.js";
import { HEADER_BYTES, MARKER_0, MARKER_1 } from "./internal/registry.js";
import { addRuntimeReader, runtimeReaderCount, runtimeReaderOf } from "./internal/runtime-readers.js";

/** A writer schema a reader can resolve: one shipped in this package, or one registered at run time. */
export interface WriterSchema {
  /** CRC-64-AVRO fingerprint of its Parsing Canonical Form, as hex (the bytes of the record header). */
  readonly fingerprint: string;
  readonly recordType: RecordType;
  /** The shipped version number; 0 for a schema registered at run time. */
  readonly version: number;
  /** The schema as JSON text, as it was given (docs and defaults kept). */
  readonly json: string;
}

/** The most writer schemas one process registers at run time; a bound against a hostile schemas topic. */
export const MAX_RUNTIME_WRITER_SCHEMAS = 1024;
/** The longest schema JSON accepted at run time. */
export const MAX_WRITER_SCHEMA_CHARS = 256 * 1024;

const FINGERPRINT = /^[0-9a-f]{16}$/;

let shipped: ReadonlyMap<string, WriterSchema> | undefined;

function shippedSchemas(): ReadonlyMap<string, WriterSchema> {
  shipped ??= new Map(
    RECORD_TYPES.flatMap((type) =>
      registry.versions[type].map((v) => {
        const fingerprint = v.fingerprint.toString("hex");
        return [
          fingerprint,
          { fingerprint, recordType: type, version: v.version, json: JSON.stringify(v.schema) },
        ];
      }),
    ),
  );
  return shipped;
}

/**
 * The writer-schema fingerprint in the header of a single-object encoded record, as hex; null when
 * the bytes are not one (no C3 01 marker, or shorter than the header).
 */
export function fingerprintOfRecord(bytes: Uint8Array | null | undefined): string | null {
  if (bytes === null || bytes === undefined || bytes.length < HEADER_BYTES) return null;
  if (bytes[0] !== MARKER_0 || bytes[1] !== MARKER_1) return null;
  return Buffer.from(bytes.buffer, bytes.byteOffset + 2, HEADER_BYTES - 2).toString("hex");
}

/**
 * Whether two single-object encoded records start with the same header (marker and writer-schema
 * fingerprint), so the second has the first's fingerprint; false when either is shorter than a header.
 */
export function sameRecordHeader(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length < HEADER_BYTES || b.length < HEADER_BYTES) return false;
  for (let i = 0; i < HEADER_BYTES; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The writer schema of a fingerprint (hex), shipped or registered at run time; null when unknown. */
export function writerSchemaOf(fingerprint: string): WriterSchema | null {
  return shippedSchemas().get(fingerprint) ?? runtimeReaderOf(fingerprint)?.schema ?? null;
}

function invalid(message: string, cause?: unknown): SchemaResolutionError {
  return new SchemaResolutionError(SchemaResolutionReason.Invalid, message, { cause });
}

function parse(schema: string | object): { json: string; value: unknown } {
  if (typeof schema !== "string") {
    const json = JSON.stringify(schema);
    if (json === undefined) throw invalid("the writer schema is not JSON");
    return { json, value: schema };
  }
  try {
    return { json: schema, value: JSON.parse(schema) as unknown };
  } catch (cause) {
    throw invalid("the writer schema is not JSON", cause);
  }
}

function readerFor(type: AvroType): RecordType | null {
  if (type.typeName !== "record") return null;
  const name = type.name;
  return RECORD_TYPES.find((recordType) => registry.current[recordType].avroType.name === name) ?? null;
}

function parseType(schema: string | object): { json: string; type: AvroType } {
  const { json, value } = parse(schema);
  if (json.length > MAX_WRITER_SCHEMA_CHARS) {
    throw invalid(`the writer schema has ${json.length} characters, over ${MAX_WRITER_SCHEMA_CHARS}`);
  }
  try {
    return { json, type: createAvroType(value) };
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw invalid(`not a valid Avro schema: ${detail}`, cause);
  }
}

/**
 * The CRC-64-AVRO fingerprint (hex) of a schema's Parsing Canonical Form: the bytes its records
 * carry in their header and the key it is published under in the schemas topic. Throws
 * SchemaResolutionError (`invalid`) for text that is not an Avro schema.
 */
export function fingerprintOfSchema(schema: string | object): string {
  return fingerprintOf(parseType(schema).type).toString("hex");
}

/**
 * Makes records written with `schema` (JSON text or parsed) decodable by {@link decodeRecord}, in
 * this process, into the current schema of its record type. The schema must be a record named as
 * one of the record types whose current (reader) schema can read it; when `expectedFingerprint` is
 * given (hex, e.g. the key it was published under), the schema's own fingerprint must equal it.
 * Registering a known schema again is harmless and returns it. Throws SchemaResolutionError
 * (non-retriable, with a `reason`) and registers nothing otherwise.
 */
export function registerWriterSchema(
  schema: string | object,
  options: { readonly expectedFingerprint?: string } = {},
): WriterSchema {
  const { json, type: writerType } = parseType(schema);
  const fingerprint = fingerprintOf(writerType).toString("hex");
  const expected = options.expectedFingerprint;
  if (expected !== undefined && expected !== fingerprint) {
    throw new SchemaResolutionError(
      SchemaResolutionReason.FingerprintMismatch,
      `the writer schema's fingerprint is ${fingerprint}, not ${FINGERPRINT.test(expected) ? expected : "the one given"}`,
    );
  }
  const known = writerSchemaOf(fingerprint);
  if (known !== null) return known;
  const recordType = readerFor(writerType);
  if (recordType === null) {
    throw new SchemaResolutionError(
      SchemaResolutionReason.UnknownRecord,
      `the writer schema is not a record of any record type (${String(writerType.name ?? writerType.typeName)})`,
    );
  }
  const readerType = registry.current[recordType].avroType;
  let resolver;
  try {
    resolver = readerType.createResolver(writerType);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new SchemaResolutionError(
      SchemaResolutionReason.Incompatible,
      `the current ${recordType} schema cannot read the writer schema ${fingerprint}: ${detail}`,
      { cause, recordType },
    );
  }
  if (runtimeReaderCount() >= MAX_RUNTIME_WRITER_SCHEMAS) {
    throw new SchemaResolutionError(
      SchemaResolutionReason.TooMany,
      `${MAX_RUNTIME_WRITER_SCHEMAS} writer schemas are registered already`,
      { recordType },
    );
  }
  const registered: WriterSchema = Object.freeze({ fingerprint, recordType, version: 0, json });
  const bytes = Buffer.from(fingerprint, "hex");
  addRuntimeReader({
    schema: registered,
    reader: {
      recordType,
      version: 0,
      fingerprintLo: bytes.readUInt32LE(0),
      fingerprintHi: bytes.readUInt32LE(4),
      readerType,
      resolver,
    },
  });
  return registered;
}
