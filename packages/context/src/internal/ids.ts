import { randomFillSync } from "node:crypto";

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let poolOffset = POOL_BYTES;

function takeOffset(length: number): number {
  if (poolOffset + length > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const offset = poolOffset;
  poolOffset += length;
  return offset;
}

function allZero(offset: number, length: number): boolean {
  for (let i = offset; i < offset + length; i++) {
    if (pool[i] !== 0) return false;
  }
  return true;
}

function randomHex(byteLength: number): string {
  let offset = takeOffset(byteLength);
  while (allZero(offset, byteLength)) offset = takeOffset(byteLength);
  return pool.toString("hex", offset, offset + byteLength);
}

/**
 * Ids are drawn from a pooled buffer refilled from the operating system's CSPRNG,
 * so a new id costs one slice of the pool rather than one system call.
 */
export function randomTraceId(): string {
  return randomHex(16);
}

export function randomSpanId(): string {
  return randomHex(8);
}

function isLowerHex(value: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

function isNotAllZeroChars(value: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    if (value.charCodeAt(i) !== 48) return true;
  }
  return false;
}

/** True for exactly `length` lowercase hex characters starting at `start`, not all zero. */
export function isValidIdAt(value: string, start: number, length: number): boolean {
  const end = start + length;
  return value.length >= end && isLowerHex(value, start, end) && isNotAllZeroChars(value, start, end);
}

export function isValidTraceId(value: unknown): value is string {
  return typeof value === "string" && value.length === 32 && isValidIdAt(value, 0, 32);
}

export function isValidSpanId(value: unknown): value is string {
  return typeof value === "string" && value.length === 16 && isValidIdAt(value, 0, 16);
}

export function isLowerHexAt(value: string, start: number, length: number): boolean {
  return value.length >= start + length && isLowerHex(value, start, start + length);
}
