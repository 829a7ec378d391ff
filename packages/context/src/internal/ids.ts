import { RandomPool } from "@tracehouse/schemas";

const random = new RandomPool(4096);

function allZero(offset: number, length: number): boolean {
  const pool = random.bytes;
  for (let i = offset; i < offset + length; i++) {
    if (pool[i] !== 0) return false;
  }
  return true;
}

const HEX_CODES = new Uint8Array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);

/** 8 pool bytes as 16 lowercase hex characters, in one string allocation. */
function hex8(o: number): string {
  const p = random.bytes;
  const h = HEX_CODES;
  const b0 = p[o] as number;
  const b1 = p[o + 1] as number;
  const b2 = p[o + 2] as number;
  const b3 = p[o + 3] as number;
  const b4 = p[o + 4] as number;
  const b5 = p[o + 5] as number;
  const b6 = p[o + 6] as number;
  const b7 = p[o + 7] as number;
  return String.fromCharCode(
    h[b0 >> 4] as number,
    h[b0 & 15] as number,
    h[b1 >> 4] as number,
    h[b1 & 15] as number,
    h[b2 >> 4] as number,
    h[b2 & 15] as number,
    h[b3 >> 4] as number,
    h[b3 & 15] as number,
    h[b4 >> 4] as number,
    h[b4 & 15] as number,
    h[b5 >> 4] as number,
    h[b5 & 15] as number,
    h[b6 >> 4] as number,
    h[b6 & 15] as number,
    h[b7 >> 4] as number,
    h[b7 & 15] as number,
  );
}

function randomOffset(byteLength: number): number {
  let offset = random.take(byteLength);
  while (allZero(offset, byteLength)) offset = random.take(byteLength);
  return offset;
}

/**
 * Ids are drawn from a pooled buffer refilled from the operating system's CSPRNG (RandomPool),
 * so a new id costs one slice of the pool rather than one system call.
 */
export function randomTraceId(): string {
  const offset = randomOffset(16);
  return hex8(offset) + hex8(offset + 8);
}

export function randomSpanId(): string {
  return hex8(randomOffset(8));
}

function isLowerHexCode(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 97 && code <= 102);
}

/** True for exactly `length` lowercase hex characters starting at `start`, not all zero. */
export function isValidIdAt(value: string, start: number, length: number): boolean {
  const end = start + length;
  if (value.length < end) return false;
  let nonZero = false;
  for (let i = start; i < end; i++) {
    const code = value.charCodeAt(i);
    if (!isLowerHexCode(code)) return false;
    if (code !== 48) nonZero = true;
  }
  return nonZero;
}

export function isValidTraceId(value: unknown): value is string {
  return typeof value === "string" && value.length === 32 && isValidIdAt(value, 0, 32);
}

export function isValidSpanId(value: unknown): value is string {
  return typeof value === "string" && value.length === 16 && isValidIdAt(value, 0, 16);
}

/** The byte written as two lowercase hex characters at `start`, or -1. */
export function lowerHexByteAt(value: string, start: number): number {
  const high = value.charCodeAt(start);
  const low = value.charCodeAt(start + 1);
  if (!isLowerHexCode(high) || !isLowerHexCode(low)) return -1;
  return ((high <= 57 ? high - 48 : high - 87) << 4) | (low <= 57 ? low - 48 : low - 87);
}
