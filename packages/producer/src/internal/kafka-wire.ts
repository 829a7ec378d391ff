// The pieces of Kafka's record wire format that the direct record encoder (kafkajs-record.ts) and
// the direct produce request (kafkajs-produce.ts) both write, as kafkajs writes them.

const zigzag = (n: number): number => ((n << 1) ^ (n >> 31)) >>> 0;

/** The bytes `n` takes as a signed varint (zig-zag, 7 bits a byte; a 32-bit signed integer). */
export function varintSize(n: number): number {
  let u = zigzag(n);
  let size = 1;
  while (u >= 0x80) {
    u >>>= 7;
    size += 1;
  }
  return size;
}

/** Writes `n` as a signed varint at `offset`; returns the offset after it. */
export function writeVarint(buf: Buffer, offset: number, n: number): number {
  let u = zigzag(n);
  while (u >= 0x80) {
    buf[offset++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[offset++] = u;
  return offset;
}

/** Key, value and header bytes: null, a Buffer or a string (UTF-8). */
export type Bytes = string | Buffer | null;

/** The length written before `value`: -1 for null, else its byte length. */
export const byteLengthOf = (value: Bytes): number =>
  value === null ? -1 : typeof value === "string" ? Buffer.byteLength(value) : value.length;

/** Writes `value` as kafkajs's `writeVarIntBytes` does, `length` being byteLengthOf(value); returns the offset after it. */
export function writeBytes(buf: Buffer, offset: number, value: Bytes, length: number): number {
  offset = writeVarint(buf, offset, length);
  if (value === null) return offset;
  if (typeof value !== "string") return offset + value.copy(buf, offset);
  if (length === value.length && length < 64) {
    // ASCII (one byte per character): written here, faster than a call into Buffer for short text
    for (let i = 0; i < length; i++) buf[offset + i] = value.charCodeAt(i);
    return offset + length;
  }
  return offset + buf.write(value, offset, length, "utf8");
}

/** A kafkajs `Encoder` holding `buf`, which kafkajs's encoders take as they take one of their own. */
export function asEncoder<T>(buf: Buffer, Encoder: { prototype: object }): T {
  const encoder = Object.create(Encoder.prototype) as { buf: Buffer; offset: number };
  encoder.buf = buf;
  encoder.offset = buf.length;
  return encoder as unknown as T;
}
