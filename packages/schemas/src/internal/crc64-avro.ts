/**
 * CRC-64-AVRO (Rabin) fingerprint as defined by the Avro specification, computed
 * with 32-bit halves so no BigInt arithmetic is needed.
 */
const EMPTY_HI = 0xc15d213a;
const EMPTY_LO = 0xa4d7a795;

const TABLE_HI = new Uint32Array(256);
const TABLE_LO = new Uint32Array(256);

for (let i = 0; i < 256; i++) {
  let hi = 0;
  let lo = i;
  for (let bit = 0; bit < 8; bit++) {
    const mask = -(lo & 1);
    lo = (((lo >>> 1) | ((hi & 1) << 31)) ^ (EMPTY_LO & mask)) >>> 0;
    hi = ((hi >>> 1) ^ (EMPTY_HI & mask)) >>> 0;
  }
  TABLE_HI[i] = hi;
  TABLE_LO[i] = lo;
}

/** The 8-byte fingerprint in little-endian order, as written after the single-object marker. */
export function crc64Avro(bytes: Uint8Array): Buffer {
  let hi = EMPTY_HI;
  let lo = EMPTY_LO;
  for (const byte of bytes) {
    const index = (lo ^ byte) & 0xff;
    lo = (((lo >>> 8) | ((hi & 0xff) << 24)) ^ TABLE_LO[index]!) >>> 0;
    hi = ((hi >>> 8) ^ TABLE_HI[index]!) >>> 0;
  }
  const out = Buffer.allocUnsafe(8);
  out.writeUInt32LE(lo, 0);
  out.writeUInt32LE(hi, 4);
  return out;
}
