/**
 * Deterministic record identities. A span exported twice (an SDK retrying after a 503, a
 * client sending the same batch to two receivers) must yield records with the same
 * event ids, so that ClickHouse, which deduplicates on event_id within a trace, counts
 * them once. Ids are UUIDs built from the trace id, span id and the record's slot.
 */

/** Which record of a span an event id names; at most 4096 slots. */
export const RecordSlot = {
  Span: 0,
  ExecutionStarted: 1,
  ExecutionEnded: 2,
  Metrics: 3,
  Correlation: 4,
  CallStart: 5,
  FirstToken: 6,
  CallEnd: 7,
  StatusError: 8,
  /** Exception event i of a span: ExceptionBase + i. */
  ExceptionBase: 16,
} as const;

const MAX_SLOT = 0xfff;

function hex(value: number, digits: number): string {
  return value.toString(16).padStart(digits, "0");
}

function xor32(a: string, b: string): number {
  return (Number.parseInt(a, 16) ^ Number.parseInt(b, 16)) >>> 0;
}

/** 64 bits mixing span and trace: span id XOR the trace id's low half (unique per span within a trace). */
function mix(traceId: string, spanId: string): string {
  return (
    hex(xor32(spanId.slice(0, 8), traceId.slice(16, 24)), 8) +
    hex(xor32(spanId.slice(8), traceId.slice(24)), 8)
  );
}

/**
 * A UUIDv7 whose time is `timeUs` (milliseconds part) and whose other bits come from the
 * span and slot: time-ordered like every other event id, and the same on every export.
 */
export function spanEventId(traceId: string, spanId: string, slot: number, timeUs: number): string {
  const ms = Math.max(0, Math.min(Math.floor(timeUs / 1000), 0xffffffffffff));
  const time = hex(ms, 12);
  const bits = mix(traceId, spanId);
  const variant = hex(0x8 | (Number.parseInt(bits[0] as string, 16) & 0x3), 1);
  const rest = bits.slice(1);
  return `${time.slice(0, 8)}-${time.slice(8)}-7${hex(Math.min(slot, MAX_SLOT), 3)}-${variant}${rest.slice(0, 3)}-${rest.slice(3)}`;
}

/** The execution id of an `invoke_agent` span: a UUIDv8 of its span id and its trace id's high bits. */
export function executionIdOf(traceId: string, spanId: string): string {
  const variant = hex(0x8 | (Number.parseInt(traceId[3] as string, 16) & 0x3), 1);
  return `${spanId.slice(0, 8)}-${spanId.slice(8, 12)}-8${spanId.slice(12, 15)}-${variant}${spanId.slice(15)}${traceId.slice(0, 2)}-${traceId.slice(4, 16)}`;
}
