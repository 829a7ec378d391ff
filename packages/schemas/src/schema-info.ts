import { ValidationError } from "./errors.js";
import { isRecordType } from "./record-type.js";
import type { RecordType } from "./record-type.js";
import { registry } from "./internal/default-registry.js";
import type { SchemaVersion } from "./internal/registry.js";

export type FieldKind =
  | "string"
  | "boolean"
  | "int"
  | "long"
  | "float"
  | "double"
  | "bytes"
  | "enum"
  | "fixed"
  | "map"
  | "array"
  | "record";

/** One top-level field of a record schema, in schema order. */
export interface RecordField {
  readonly name: string;
  /** Kind of the value, with `null` stripped from `[null, T]` unions. */
  readonly kind: FieldKind;
  readonly nullable: boolean;
  /** True when writers may omit the field (it has a schema default). */
  readonly hasDefault: boolean;
  /** Enum symbols; empty for other kinds. */
  readonly symbols: readonly string[];
  /** Avro logical type of the value, e.g. `timestamp-micros`; null when none. */
  readonly logicalType: string | null;
}

export interface FieldSchema {
  readonly name: string;
  readonly type: unknown;
  readonly default?: unknown;
}

function versionOf(type: RecordType, version: number | undefined): SchemaVersion {
  if (!isRecordType(type)) {
    throw new ValidationError(String(type), [{ path: "", message: `unknown record type ${String(type)}` }]);
  }
  const versions = registry.versions[type];
  const found = version === undefined ? registry.current[type] : versions[version - 1];
  if (found === undefined) {
    throw new ValidationError(type, [{ path: "", message: `no schema version ${String(version)}` }]);
  }
  return found;
}

export function describeField(field: FieldSchema): RecordField {
  let type = field.type;
  let nullable = false;
  if (Array.isArray(type)) {
    const branches = type.filter((branch) => branch !== "null");
    nullable = branches.length < type.length;
    type = branches.length === 1 ? branches[0] : type;
  }
  const schema = typeof type === "string" ? { type } : (type as Record<string, unknown>);
  const kind = schema.type as FieldKind;
  return Object.freeze({
    name: field.name,
    kind,
    nullable,
    hasDefault: "default" in field,
    symbols: Object.freeze(kind === "enum" ? [...(schema.symbols as string[])] : []),
    logicalType: typeof schema.logicalType === "string" ? schema.logicalType : null,
  });
}

const FIELDS = new Map<SchemaVersion, readonly RecordField[]>();

/** The top-level fields of a record type's schema (current version unless given), in order. */
export function recordFields(type: RecordType, version?: number): readonly RecordField[] {
  const schemaVersion = versionOf(type, version);
  let fields = FIELDS.get(schemaVersion);
  if (fields === undefined) {
    const schema = schemaVersion.schema as { readonly fields: readonly FieldSchema[] };
    fields = Object.freeze(schema.fields.map(describeField));
    FIELDS.set(schemaVersion, fields);
  }
  return fields;
}

/** The Avro schema (parsed `.avsc`, frozen) of a record type, current version unless given. */
export function avroSchemaOf(type: RecordType, version?: number): unknown {
  return versionOf(type, version).schema;
}

/** The version new records of this type are written with. */
export function currentSchemaVersion(type: RecordType): number {
  return versionOf(type, undefined).version;
}

/** Hex of the writer-schema fingerprint carried in the record header (CRC-64-AVRO, little-endian). */
export function schemaFingerprintOf(type: RecordType, version?: number): string {
  return versionOf(type, version).fingerprint.toString("hex");
}
