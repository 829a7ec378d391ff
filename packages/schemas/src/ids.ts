import { v7 as uuidv7 } from "uuid";

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ZERO_TRACE_ID = "0".repeat(32);
const ZERO_SPAN_ID = "0".repeat(16);

/** A new record identity: a UUIDv7 (unique, ordered by creation time). */
export function newEventId(): string {
  return uuidv7();
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
