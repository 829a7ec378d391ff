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

function boundedCollections(schema: unknown, opts: unknown): AvroType | undefined {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return undefined;
  const kind = (schema as { type?: unknown }).type;
  if (kind === "array") return new BoundedArrayType(schema as avro.schema.ArrayType, opts);
  if (kind === "map") return new BoundedMapType(schema as avro.schema.MapType, opts);
  return undefined;
}

/** Parses a schema the way every tracehouse codec does: bare `T | null` unions, plain records. */
export function createAvroType(schema: unknown): AvroType {
  return avro.Type.forSchema(schema as avro.schema.AvroSchema, {
    wrapUnions: "never",
    omitRecordMethods: true,
    typeHook: boundedCollections as (schema: unknown, opts: unknown) => AvroType,
  });
}

/** Parsing Canonical Form: avsc's `schema()` without options strips docs, defaults and aliases and orders keys. */
export function canonicalForm(type: AvroType): string {
  return JSON.stringify(type.schema());
}

export function fingerprintOf(type: AvroType): Buffer {
  return crc64Avro(Buffer.from(canonicalForm(type), "utf8"));
}
