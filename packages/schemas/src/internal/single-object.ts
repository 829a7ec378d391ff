import type { AvroType } from "./avro.js";
import { HEADER_BYTES } from "./registry.js";

let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * Writes header + Avro body into a reused scratch buffer, then copies exactly the bytes
 * written into a fresh buffer. Throws (leaving nothing behind) when the value does not
 * match the type.
 */
export function writeSingleObject(header: Buffer, avroType: AvroType, value: unknown): Buffer {
  for (;;) {
    const end = avroType.encode(value, scratch, HEADER_BYTES);
    if (end > 0) {
      const out = Buffer.allocUnsafe(end);
      header.copy(out, 0);
      scratch.copy(out, HEADER_BYTES, HEADER_BYTES, end);
      return out;
    }
    scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end + HEADER_BYTES));
  }
}
