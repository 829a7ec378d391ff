// kafkajs 2.2.4 encodes each record of a produce request (src/protocol/recordBatch/record/v0) through
// a fresh `Encoder`: a zero-filled buffer of at least 512 bytes, grown by doubling (a new zeroed
// buffer and a copy) for larger values, one more such encoder per header, and a `Buffer.from` of a
// byte array per varint. This module writes the same bytes into one buffer of the record's exact
// size, and encodes a frozen headers object once (the producer shares one per trace and record
// type). It goes in kafkajs's place in Node's module cache before kafkajs loads the produce request
// that requires it; inputs it does not handle go to kafkajs's own function.
import { createRequire } from "node:module";
import { asEncoder, byteLengthOf, varintSize, writeBytes, writeVarint } from "./kafka-wire.js";
import { kafkajsFile, replaceKafkajsModule } from "./kafkajs-module.js";
import type { ReplacementState } from "./kafkajs-module.js";

const require = createRequire(import.meta.url);

const RECORD = "protocol/recordBatch/record/v0/index.js";
const PRODUCE_REQUEST = "protocol/requests/produce/v3/request.js";

/** What kafkajs's `Record` is called with. */
export interface RecordArgs {
  readonly offsetDelta?: number;
  readonly timestampDelta?: number;
  readonly key?: unknown;
  readonly value?: unknown;
  readonly headers?: Readonly<Record<string, unknown>>;
}

/** kafkajs's `Encoder`, as far as a record batch uses it: its buffer and how much of it is written. */
export interface EncodedRecord {
  readonly buf: Buffer;
  readonly offset: number;
  readonly buffer: Buffer;
}

export type RecordEncoder = (args: RecordArgs) => EncodedRecord;

const INT32 = 2 ** 31;

/** Bytes as kafkajs writes them (`writeVarIntBytes`): null, a Buffer or a string; undefined otherwise. */
function bytesOf(value: unknown): Buffer | string | null | undefined {
  if (value == null) return null;
  return typeof value === "string" || Buffer.isBuffer(value) ? value : undefined;
}

const frozenHeaders = new WeakMap<object, Buffer>();

/** The headers part of a record (count, then key and value of each); undefined when kafkajs must decide. */
function encodeHeaders(headers: Readonly<Record<string, unknown>>): Buffer | undefined {
  const cached = frozenHeaders.get(headers);
  if (cached !== undefined) return cached;
  const parts: (string | Buffer)[] = [];
  for (const key of Object.keys(headers)) {
    const entry = headers[key];
    for (const value of Array.isArray(entry) ? (entry as unknown[]) : [entry]) {
      // kafkajs sizes a header value with Buffer.byteLength: null, undefined and numbers make it throw
      if (typeof value !== "string" && !Buffer.isBuffer(value)) return undefined;
      parts.push(key, value);
    }
  }
  const lengths = parts.map((part) => byteLengthOf(part));
  let size = varintSize(parts.length / 2);
  for (const length of lengths) size += varintSize(length) + length;
  const buf = Buffer.allocUnsafe(size);
  let offset = writeVarint(buf, 0, parts.length / 2);
  for (let i = 0; i < parts.length; i++) offset = writeBytes(buf, offset, parts[i]!, lengths[i]!);
  if (Object.isFrozen(headers)) frozenHeaders.set(headers, buf);
  return buf;
}

/** A record encoder writing kafkajs's bytes directly, and leaving to `original` what it does not handle. */
export function directRecordEncoder(original: RecordEncoder, Encoder: { prototype: object }): RecordEncoder {
  return (args) => {
    const { offsetDelta = 0, timestampDelta = 0, headers = {} } = args;
    const key = bytesOf(args.key);
    const value = bytesOf(args.value);
    const encodedHeaders = encodeHeaders(headers);
    if (
      key === undefined ||
      value === undefined ||
      encodedHeaders === undefined ||
      !Number.isInteger(offsetDelta) ||
      !Number.isInteger(timestampDelta) ||
      Math.abs(offsetDelta) >= INT32 ||
      Math.abs(timestampDelta) >= INT32
    ) {
      return original(args);
    }
    const keyLength = byteLengthOf(key);
    const valueLength = byteLengthOf(value);
    const body =
      1 +
      varintSize(timestampDelta) +
      varintSize(offsetDelta) +
      varintSize(keyLength) +
      Math.max(0, keyLength) +
      varintSize(valueLength) +
      Math.max(0, valueLength) +
      encodedHeaders.length;
    const buf = Buffer.allocUnsafe(varintSize(body) + body);
    let offset = writeVarint(buf, 0, body);
    buf[offset++] = 0; // attributes: none used
    offset = writeVarint(buf, offset, timestampDelta);
    offset = writeVarint(buf, offset, offsetDelta);
    offset = writeBytes(buf, offset, key, keyLength);
    offset = writeBytes(buf, offset, value, valueLength);
    encodedHeaders.copy(buf, offset);
    return asEncoder<EncodedRecord>(buf, Encoder);
  };
}

/** Puts {@link directRecordEncoder} in the place of kafkajs's record encoder; idempotent. */
export function installDirectRecords(): ReplacementState {
  const record = kafkajsFile(RECORD);
  const encoder = kafkajsFile("protocol/encoder.js");
  if (record === undefined || encoder === undefined) return "not-found";
  const current = require(record) as RecordEncoder & { direct?: true };
  if (current.direct === true) return "installed";
  const direct = Object.assign(directRecordEncoder(current, require(encoder) as { prototype: object }), {
    direct: true as const,
  });
  return replaceKafkajsModule(RECORD, PRODUCE_REQUEST, direct);
}

export const directRecords: ReplacementState = installDirectRecords();
