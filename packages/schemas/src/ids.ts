import { RandomPool } from "./random-pool.js";

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ZERO_TRACE_ID = "0".repeat(32);
const ZERO_SPAN_ID = "0".repeat(16);

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const POOL_BYTES = 8 * 1024;
const RANDOM_BYTES_PER_ID = 8;

const random = new RandomPool(POOL_BYTES);
let lastMs = -1;
let counter = 0;

/**
 * A new record identity: a UUIDv7 (RFC 9562) of 48-bit Unix milliseconds, a 12-bit counter
 * (method 1: ids of one process are strictly increasing, even within a millisecond or when
 * the clock steps back) and 62 random bits from a pooled CSPRNG buffer (RandomPool), so an id
 * costs about a tenth of asking the CSPRNG for each one.
 */
export function newEventId(): string {
  let ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    const at = random.take(1);
    counter = random.bytes[at]! & 0x3ff;
  } else {
    counter += 1;
    if (counter > 0xfff) {
      lastMs += 1;
      counter = 0;
    }
    ms = lastMs;
  }
  const r = random.take(RANDOM_BYTES_PER_ID);
  const pool = random.bytes;
  const high = Math.floor(ms / 0x1000000);
  const low = ms % 0x1000000;
  return (
    HEX[(high >>> 16) & 0xff]! +
    HEX[(high >>> 8) & 0xff]! +
    HEX[high & 0xff]! +
    HEX[(low >>> 16) & 0xff]! +
    "-" +
    HEX[(low >>> 8) & 0xff]! +
    HEX[low & 0xff]! +
    "-" +
    HEX[0x70 | (counter >>> 8)]! +
    HEX[counter & 0xff]! +
    "-" +
    HEX[0x80 | (pool[r]! & 0x3f)]! +
    HEX[pool[r + 1]!]! +
    "-" +
    HEX[pool[r + 2]!]! +
    HEX[pool[r + 3]!]! +
    HEX[pool[r + 4]!]! +
    HEX[pool[r + 5]!]! +
    HEX[pool[r + 6]!]! +
    HEX[pool[r + 7]!]!
  );
}

/** W3C trace id: 32 lowercase hex characters, not all zero. */
export function isTraceId(value: unknown): value is string {
  return typeof value === "string" && TRACE_ID.test(value) && value !== ZERO_TRACE_ID;
}

/** W3C span id: 16 lowercase hex characters, not all zero. */
export function isSpanId(value: unknown): value is string {
  return typeof value === "string" && SPAN_ID.test(value) && value !== ZERO_SPAN_ID;
}

/** A UUID in its canonical lowercase 8-4-4-4-12 form (any version). */
export function isEventId(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

const REANCHOR_MS = 1000;
let anchorWallMs = Date.now();
let anchorMonotonicMs = performance.now();

/**
 * Current time in microseconds since the Unix epoch. Sub-millisecond precision comes
 * from the monotonic clock, re-anchored to the wall clock every second so it never
 * drifts from it for long.
 */
export function nowMicros(): number {
  const monotonicMs = performance.now();
  if (monotonicMs - anchorMonotonicMs >= REANCHOR_MS) {
    anchorWallMs = Date.now();
    anchorMonotonicMs = monotonicMs;
  }
  return Math.floor((anchorWallMs + (monotonicMs - anchorMonotonicMs)) * 1000);
}
