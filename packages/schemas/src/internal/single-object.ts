import type { AvroType } from "./avro.js";
import { HEADER_BYTES } from "./registry.js";

/** Records are written one after another into a slab and handed out as slices of it. */
const SLAB_BYTES = 256 * 1024;

let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let used = 0;

/**
 * Writes header + Avro body into the current slab and returns exactly those bytes, a slice
 * of the slab (as Node's pooled `Buffer.allocUnsafe` does for small buffers): no copy, no
 * allocation per record. A record that does not fit starts a new slab; the old one is freed
 * once its last record is. Throws (leaving nothing behind) when the value does not match the type.
 */
export function writeSingleObject(header: Buffer, avroType: AvroType, value: unknown): Buffer {
  for (;;) {
    const start = used;
    const end = avroType.encode(value, slab, start + HEADER_BYTES);
    if (end > 0) {
      header.copy(slab, start);
      used = (end + 7) & ~7;
      return slab.subarray(start, end);
    }
    // avsc returns minus the bytes missing
    const needed = slab.length - end - start;
    slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, needed));
    used = 0;
  }
}
