import avro from "avsc";
import { crc64Avro } from "./crc64-avro.js";

export type AvroType = avro.Type;

/** The part of avsc's internal byte cursor that bounded collections read. */
interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
  readString(): string;
  skipString(): void;
}

interface WriteTap {
  buf: Buffer;
  pos: number;
  writeLong(value: number): void;
  writeString(value: string): void;
}

interface Writable {
  _write(tap: WriteTap, value: unknown): void;
}

/** ASCII strings this short have a one-byte length prefix: zig-zag(63) = 126. */
const SHORT_STRING = 64;

/**
 * avsc's string write, without its per-string `Buffer.byteLength` call for the short ASCII
 * strings (ids, names, statuses) that make up most of a record: their byte length is their
 * length. Anything else, or a buffer too small, is left to avsc.
 */
function writeString(tap: WriteTap, value: string): void {
  const length = value.length;
  const { buf } = tap;
  const start = tap.pos + 1;
  if (length < SHORT_STRING && start + length <= buf.length) {
    let i = 0;
    for (; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) break;
      buf[start + i] = code;
    }
    if (i === length) {
      buf[tap.pos] = length << 1;
      tap.pos = start + length;
      return;
    }
  }
  tap.writeString(value);
}

/** `string`, written by {@link writeString}. */
class ShortStringType extends avro.types.StringType {
  _write(tap: WriteTap, value: unknown): void {
    if (typeof value !== "string") invalid(value, "string");
    writeString(tap, value);
  }
}

interface Readable {
  _read(tap: Tap): unknown;
  _skip(tap: Tap): void;
}

/** Marks the tap as read past its end, which avsc reports as a truncated buffer. */
function invalidate(tap: Tap): 0 {
  tap.pos = tap.buf.length + 1;
  return 0;
}

/**
 * Reads the size of the next array or map block. A count that cannot fit in the bytes
 * left (every item takes at least one byte: map keys always, array items because the
 * evolution check forbids zero-width items) means the data is not there: the tap is
 * invalidated instead of letting avsc loop up to 2^53 times over a corrupt count.
 */
function readBlockCount(tap: Tap): number {
  let count = tap.readLong();
  if (count < 0) {
    count = -count;
    tap.skipLong();
  }
  // Negated so a NaN count from an overlong varint is rejected too.
  return !(count <= tap.buf.length - tap.pos) ? invalidate(tap) : count;
}

function skipBlocks(tap: Tap, skipItem: (tap: Tap) => void): void {
  let count: number;
  while ((count = tap.readLong()) !== 0) {
    if (count < 0) {
      const size = tap.readLong();
      if (!(size >= 0 && size <= tap.buf.length - tap.pos)) {
        invalidate(tap);
        return;
      }
      tap.pos += size;
    } else if (!(count <= tap.buf.length - tap.pos)) {
      invalidate(tap);
      return;
    } else {
      while (count-- > 0) skipItem(tap);
    }
  }
}

// In a resolver, `this` is the resolver, whose itemsType/valuesType are resolvers too.
class BoundedArrayType extends avro.types.ArrayType {
  _read(this: { itemsType: Readable }, tap: Tap): unknown[] {
    const items = this.itemsType;
    let values: unknown[] | undefined;
    let index = 0;
    let count: number;
    while ((count = readBlockCount(tap)) !== 0) {
      values ??= new Array<unknown>(count);
      while (count-- > 0) values[index++] = items._read(tap);
    }
    return values ?? [];
  }

  _skip(this: { itemsType: Readable }, tap: Tap): void {
    const items = this.itemsType;
    skipBlocks(tap, (t) => items._skip(t));
  }
}

class BoundedMapType extends avro.types.MapType {
  _write(this: { valuesType: Writable }, tap: WriteTap, map: unknown): void {
    if (typeof map !== "object" || map === null || Array.isArray(map)) invalid(map, "map");
    const values = this.valuesType;
    const keys = Object.keys(map);
    if (keys.length > 0) {
      tap.writeLong(keys.length);
      for (const key of keys) {
        writeString(tap, key);
        values._write(tap, (map as Record<string, unknown>)[key]);
      }
    }
    tap.writeLong(0);
  }

  _read(this: { valuesType: Readable }, tap: Tap): Record<string, unknown> {
    const values = this.valuesType;
    const map: Record<string, unknown> = {};
    let count: number;
    while ((count = readBlockCount(tap)) !== 0) {
      while (count-- > 0) {
        const key = tap.readString();
        map[key] = values._read(tap);
      }
    }
    return map;
  }

  _skip(this: { valuesType: Readable }, tap: Tap): void {
    const values = this.valuesType;
    skipBlocks(tap, (t) => {
      t.skipString();
      values._skip(t);
    });
  }
}

/** `["null", "string"]`, the envelope's optional ids and names: written without avsc's branch lookup. */
class NullableStringType extends avro.types.UnwrappedUnionType {
  _write(tap: WriteTap, value: unknown): void {
    if (value === null) {
      tap.writeLong(0);
    } else {
      if (typeof value !== "string") invalid(value, "union");
      tap.writeLong(1);
      writeString(tap, value);
    }
  }
}

function isNullableString(schema: unknown[]): boolean {
  return schema.length === 2 && schema[0] === "null" && schema[1] === "string";
}

/** The codec's own types: bounded collections, and the common nullable string. */
function typeHook(schema: unknown, opts: unknown): AvroType | undefined {
  if (Array.isArray(schema)) {
    return isNullableString(schema)
      ? new NullableStringType(schema as avro.schema.DefinedType[], opts)
      : undefined;
  }
  if (typeof schema !== "object" || schema === null) return undefined;
  const kind = (schema as { type?: unknown }).type;
  if (kind === "array") return new BoundedArrayType(schema as avro.schema.ArrayType, opts);
  if (kind === "map") return new BoundedMapType(schema as avro.schema.MapType, opts);
  return undefined;
}

/** The documented range of `long` fields held as JS numbers: ±2^52. */
export const MAX_LONG = 2 ** 52;
const TWO_32 = 2 ** 32;
/** Zig-zag varints up to 7 bytes hold at most 49 bits: avsc reads those exactly. */
const EXACT_VARINT_BYTES = 7;

interface LongTap extends Tap {
  writeLong(value: number): void;
  unpackLongBytes(): Buffer;
}

interface DoubleTap {
  readDouble(): number;
  writeDouble(value: number): void;
}

function isLong(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= -MAX_LONG && value <= MAX_LONG;
}

function invalid(value: unknown, type: string): never {
  throw new Error(`invalid "${type}": ${String(value)}`);
}

/** Two's complement, little-endian, as avsc unpacks a varint: exact, then range-checked. */
function exactLong(bytes: Buffer): number {
  const hi = bytes.readInt32LE(4);
  // |hi| <= 2^20 keeps hi * 2^32 + lo exact; the precise bound is checked after
  const value = hi >= -(2 ** 20) - 1 && hi <= 2 ** 20 ? hi * TWO_32 + bytes.readUInt32LE(0) : Number.NaN;
  if (!isLong(value)) {
    throw new RangeError(`long 0x${Buffer.from(bytes).reverse().toString("hex")} is outside ±2^52`);
  }
  return value;
}

/**
 * `long` within ±2^52, exactly: values outside are refused on encode, and on decode a long
 * wider than 7 varint bytes is unpacked exactly (no floating-point zig-zag) and rejected
 * when outside the range, before any lossy conversion.
 */
class ExactLongType extends avro.types.LongType {
  _check(value: unknown, _flags: unknown, hook?: (value: unknown, type: unknown) => void): boolean {
    const ok = isLong(value);
    if (!ok && hook !== undefined) hook(value, this);
    return ok;
  }

  _read(tap: LongTap): number {
    const { buf } = tap;
    let end = tap.pos;
    while (end < buf.length && (buf[end] as number) >= 0x80) end++;
    return end - tap.pos < EXACT_VARINT_BYTES ? tap.readLong() : exactLong(tap.unpackLongBytes());
  }

  _write(tap: LongTap, value: unknown): void {
    if (!isLong(value)) invalid(value, "long");
    tap.writeLong(value);
  }
}

/** `double` without NaN and ±Infinity: valid IEEE values, but no reader can store them. */
class FiniteDoubleType extends avro.types.DoubleType {
  _check(value: unknown, _flags: unknown, hook?: (value: unknown, type: unknown) => void): boolean {
    const ok = typeof value === "number" && Number.isFinite(value);
    if (!ok && hook !== undefined) hook(value, this);
    return ok;
  }

  _read(tap: DoubleTap): number {
    const value = tap.readDouble();
    if (!Number.isFinite(value)) throw new RangeError(`double ${value} is not finite`);
    return value;
  }

  _write(tap: DoubleTap, value: unknown): void {
    if (typeof value !== "number" || !Number.isFinite(value)) invalid(value, "double");
    tap.writeDouble(value);
  }
}

/** Parses a schema the way every tracehouse codec does: bare `T | null` unions, plain records, exact longs. */
export function createAvroType(schema: unknown): AvroType {
  return avro.Type.forSchema(schema as avro.schema.AvroSchema, {
    wrapUnions: "never",
    omitRecordMethods: true,
    registry: { long: new ExactLongType(), double: new FiniteDoubleType(), string: new ShortStringType() },
    typeHook: typeHook as (schema: unknown, opts: unknown) => AvroType,
  });
}

/** Parsing Canonical Form: avsc's `schema()` without options strips docs, defaults and aliases and orders keys. */
export function canonicalForm(type: AvroType): string {
  return JSON.stringify(type.schema());
}

export function fingerprintOf(type: AvroType): Buffer {
  return crc64Avro(Buffer.from(canonicalForm(type), "utf8"));
}
