import type avro from "avsc";
import { NonRetriableError } from "../errors.js";
import { isRecordType, RECORD_TYPES } from "../record-type.js";
import type { RecordType } from "../record-type.js";
import { createAvroType, fingerprintOf } from "./avro.js";
import type { AvroType } from "./avro.js";
import { parseSchemaFileName } from "./schema-files.js";
import type { SchemaFile } from "./schema-files.js";

export const MARKER_0 = 0xc3;
export const MARKER_1 = 0x01;
export const HEADER_BYTES = 10;

export interface SchemaVersion {
  readonly recordType: RecordType;
  readonly version: number;
  readonly file: string;
  readonly schema: unknown;
  readonly avroType: AvroType;
  readonly fingerprint: Buffer;
  /** Marker and fingerprint: the first ten bytes of every record written with this version. */
  readonly header: Buffer;
}

/** How bytes written with one schema version are read into the current reader schema. */
export interface VersionReader {
  readonly recordType: RecordType;
  readonly version: number;
  readonly fingerprintLo: number;
  readonly fingerprintHi: number;
  readonly readerType: AvroType;
  /** Absent when the writer is the current version. */
  readonly resolver: avro.Resolver | undefined;
}

export interface SchemaRegistry {
  /** Versions of each record type, oldest first; the last is the current one. */
  readonly versions: { readonly [T in RecordType]: readonly SchemaVersion[] };
  readonly current: { readonly [T in RecordType]: SchemaVersion };
  readonly readers: readonly VersionReader[];
}

function fail(message: string): never {
  throw new NonRetriableError(`schema registry: ${message}`);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export function loadSchemaVersion(file: SchemaFile): SchemaVersion {
  const name = parseSchemaFileName(file.file);
  if (name === null) fail(`${file.file} is not named <record type>.v<version>.avsc`);
  if (!isRecordType(name.recordType)) fail(`${file.file}: unknown record type ${name.recordType}`);
  const schema = deepFreeze(JSON.parse(file.source) as unknown);
  const avroType = createAvroType(schema);
  const fingerprint = fingerprintOf(avroType);
  const header = Buffer.concat([Buffer.from([MARKER_0, MARKER_1]), fingerprint]);
  return {
    recordType: name.recordType,
    version: name.version,
    file: file.file,
    schema,
    avroType,
    fingerprint,
    header,
  };
}

export function buildRegistry(files: readonly SchemaFile[]): SchemaRegistry {
  const loaded = files.map(loadSchemaVersion);
  const seen = new Map<string, string>();
  for (const entry of loaded) {
    const key = entry.fingerprint.toString("hex");
    const other = seen.get(key);
    if (other !== undefined) fail(`${entry.file} and ${other} have the same fingerprint ${key}`);
    seen.set(key, entry.file);
  }

  const versions = {} as Record<RecordType, SchemaVersion[]>;
  const current = {} as Record<RecordType, SchemaVersion>;
  const readers: VersionReader[] = [];
  for (const recordType of RECORD_TYPES) {
    const list = loaded.filter((v) => v.recordType === recordType).sort((a, b) => a.version - b.version);
    if (list.length === 0) fail(`no schema for record type ${recordType}`);
    list.forEach((v, i) => {
      if (v.version !== i + 1) fail(`${recordType} versions must be 1..${list.length}, found v${v.version}`);
    });
    const latest = list[list.length - 1]!;
    for (const writer of list) {
      readers.push({
        recordType,
        version: writer.version,
        fingerprintLo: writer.fingerprint.readUInt32LE(0),
        fingerprintHi: writer.fingerprint.readUInt32LE(4),
        readerType: latest.avroType,
        resolver: writer === latest ? undefined : latest.avroType.createResolver(writer.avroType),
      });
    }
    versions[recordType] = list;
    current[recordType] = latest;
  }
  return { versions, current, readers };
}
