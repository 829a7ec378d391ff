/** Kafka's signed varints (zig-zag, 7 bits a byte), as kafkajs writes them for records and headers. */

const zigzag = (n: number): number => ((n << 1) ^ (n >> 31)) >>> 0;

/** The bytes `n` takes as a varint (a 32-bit signed integer). */
export function varintSize(n: number): number {
  let u = zigzag(n);
  let size = 1;
  while (u >= 0x80) {
    u >>>= 7;
    size += 1;
  }
  return size;
}

/** Writes `n` as a varint at `offset`; returns the offset after it. */
export function writeVarint(buf: Buffer, offset: number, n: number): number {
  let u = zigzag(n);
  while (u >= 0x80) {
    buf[offset++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[offset++] = u;
  return offset;
}
