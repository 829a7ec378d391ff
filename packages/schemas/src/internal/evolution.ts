import { ENVELOPE_FIELDS } from "../records.js";
import { isRecordType } from "../record-type.js";
import { createAvroType, fingerprintOf } from "./avro.js";
import type { AvroType } from "./avro.js";
import { parseSchemaFileName } from "./schema-files.js";
import type { SchemaFile } from "./schema-files.js";

export interface EvolutionIssue {
  readonly file: string;
  readonly message: string;
}

interface Parsed {
  readonly file: string;
  readonly recordType: string;
  readonly version: number;
  readonly schema: Record<string, unknown>;
  readonly avroType: AvroType;
}

interface FieldSchema {
  readonly name: string;
  readonly type: unknown;
  readonly default?: unknown;
}

const NAMESPACE = "io.tracehouse";

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every field needs what lets a later version add or drop it: `[null, T]` unions default to null, maps to {}, arrays to []. */
function defaultIssues(fields: readonly FieldSchema[], where: string): string[] {
  const issues: string[] = [];
  for (const field of fields) {
    const path = `${where}${field.name}`;
    const type = field.type;
    if (Array.isArray(type)) {
      if (type.length !== 2 || type[0] !== "null") {
        issues.push(`${path}: unions must be ["null", T]`);
      } else if (!("default" in field) || field.default !== null) {
        issues.push(`${path}: nullable fields must default to null`);
      }
    }
    const inner = Array.isArray(type) ? type[1] : type;
    if (!isObject(inner)) continue;
    if (
      inner.type === "map" &&
      !Array.isArray(type) &&
      !(isObject(field.default) && Object.keys(field.default).length === 0)
    ) {
      issues.push(`${path}: maps must default to {}`);
    }
    if (
      inner.type === "array" &&
      !Array.isArray(type) &&
      !(Array.isArray(field.default) && field.default.length === 0)
    ) {
      issues.push(`${path}: arrays must default to []`);
    }
    const nested = inner.type === "array" ? inner.items : inner.type === "map" ? inner.values : inner;
    if (isObject(nested) && nested.type === "record" && Array.isArray(nested.fields)) {
      issues.push(...defaultIssues(nested.fields as FieldSchema[], `${path}.`));
    }
  }
  return issues;
}

/** Smallest encoded size of a value; array items must take at least one byte (see avro.ts). */
function minimumBytes(type: AvroType, visiting: Set<AvroType> = new Set()): number {
  if (visiting.has(type)) return 1;
  const typed = type as AvroType & {
    readonly fields?: readonly { readonly type: AvroType }[];
    readonly size?: number;
  };
  switch (type.typeName) {
    case "null":
      return 0;
    case "float":
      return 4;
    case "double":
      return 8;
    case "fixed":
      return typed.size ?? 0;
    case "record":
    case "error": {
      visiting.add(type);
      const total = (typed.fields ?? []).reduce((sum, field) => sum + minimumBytes(field.type, visiting), 0);
      visiting.delete(type);
      return total;
    }
    default:
      return 1;
  }
}

function zeroWidthArrayItems(type: AvroType, path: string, seen: Set<AvroType> = new Set()): string[] {
  if (seen.has(type)) return [];
  seen.add(type);
  const typed = type as AvroType & {
    readonly fields?: readonly { readonly name: string; readonly type: AvroType }[];
    readonly itemsType?: AvroType;
    readonly valuesType?: AvroType;
    readonly types?: readonly AvroType[];
  };
  const issues: string[] = [];
  if (typed.itemsType !== undefined) {
    if (minimumBytes(typed.itemsType) === 0)
      issues.push(`${path}: array items must not encode to zero bytes`);
    issues.push(...zeroWidthArrayItems(typed.itemsType, `${path}[]`, seen));
  }
  if (typed.valuesType !== undefined)
    issues.push(...zeroWidthArrayItems(typed.valuesType, `${path}{}`, seen));
  for (const branch of typed.types ?? []) issues.push(...zeroWidthArrayItems(branch, path, seen));
  for (const field of typed.fields ?? []) {
    issues.push(...zeroWidthArrayItems(field.type, path === "" ? field.name : `${path}.${field.name}`, seen));
  }
  return issues;
}

function parseFile(file: SchemaFile, issues: EvolutionIssue[]): Parsed | null {
  const report = (text: string): null => {
    issues.push({ file: file.file, message: text });
    return null;
  };
  const name = parseSchemaFileName(file.file);
  if (name === null) return report("file name must be <record type>.v<version>.avsc");
  if (!isRecordType(name.recordType)) return report(`unknown record type ${name.recordType}`);
  let schema: unknown;
  try {
    schema = JSON.parse(file.source);
  } catch (error) {
    return report(`not JSON: ${message(error)}`);
  }
  if (!isObject(schema) || schema.type !== "record" || !Array.isArray(schema.fields)) {
    return report("top level must be a record");
  }
  let avroType: AvroType;
  try {
    avroType = createAvroType(schema);
  } catch (error) {
    return report(`not a valid Avro schema: ${message(error)}`);
  }
  if (schema.namespace !== NAMESPACE) report(`namespace must be ${NAMESPACE}`);
  const fields = schema.fields as FieldSchema[];
  const envelope = fields.slice(0, ENVELOPE_FIELDS.length).map((field) => field.name);
  if (envelope.join() !== ENVELOPE_FIELDS.join()) {
    report(`must start with the envelope fields ${ENVELOPE_FIELDS.join(", ")}`);
  }
  for (const text of defaultIssues(fields, "")) report(text);
  for (const text of zeroWidthArrayItems(avroType, "")) report(text);
  return { file: file.file, recordType: name.recordType, version: name.version, schema, avroType };
}

function envelopeOf(parsed: Parsed): string {
  const fields = (parsed.schema.fields as FieldSchema[]).slice(0, ENVELOPE_FIELDS.length);
  return JSON.stringify(fields.map(({ name, type, default: value }) => ({ name, type, default: value })));
}

function compatibilityIssues(older: Parsed, newer: Parsed): string[] {
  const issues: string[] = [];
  try {
    newer.avroType.createResolver(older.avroType);
  } catch (error) {
    issues.push(
      `not backward compatible: v${newer.version} cannot read v${older.version}: ${message(error)}`,
    );
  }
  try {
    older.avroType.createResolver(newer.avroType);
  } catch (error) {
    issues.push(`not forward compatible: v${older.version} cannot read v${newer.version}: ${message(error)}`);
  }
  return issues;
}

/**
 * The rules every set of schema files must keep: names and versions, the shared envelope,
 * defaults on every optional field, distinct fingerprints, and full compatibility in both
 * directions between every pair of versions of a record type.
 */
export function checkEvolution(files: readonly SchemaFile[]): EvolutionIssue[] {
  const issues: EvolutionIssue[] = [];
  const parsed = files.map((file) => parseFile(file, issues)).filter((p): p is Parsed => p !== null);

  const reference = parsed[0];
  for (const entry of parsed) {
    if (reference !== undefined && envelopeOf(entry) !== envelopeOf(reference)) {
      issues.push({ file: entry.file, message: `envelope fields differ from ${reference.file}` });
    }
  }

  const fingerprints = new Map<string, string>();
  for (const entry of parsed) {
    const key = fingerprintOf(entry.avroType).toString("hex");
    const other = fingerprints.get(key);
    if (other !== undefined) issues.push({ file: entry.file, message: `same fingerprint as ${other}` });
    fingerprints.set(key, entry.file);
  }

  const byType = new Map<string, Parsed[]>();
  for (const entry of parsed) byType.set(entry.recordType, [...(byType.get(entry.recordType) ?? []), entry]);
  for (const [recordType, list] of byType) {
    list.sort((a, b) => a.version - b.version);
    list.forEach((entry, i) => {
      if (entry.version !== i + 1) {
        issues.push({
          file: entry.file,
          message: `${recordType} versions must be numbered 1, 2, 3, ... without gaps`,
        });
      }
    });
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        for (const text of compatibilityIssues(list[i]!, list[j]!))
          issues.push({ file: list[j]!.file, message: text });
      }
    }
  }
  return issues;
}
