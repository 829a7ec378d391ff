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
const MAX_MS = 0xffffffffffff;
const HEX_DIGITS = "0123456789abcdef";
const DIGIT_CODES = Uint8Array.from(HEX_DIGITS, (digit) => digit.charCodeAt(0));
/** The value of a lowercase hex digit's char code (ids reaching here are checked lowercase hex). */
const NIBBLES = new Uint8Array(128);
for (let i = 0; i < 16; i++) NIBBLES[DIGIT_CODES[i] as number] = i;
/** Where the 12 hex digits of the time go in `xxxxxxxx-xxxx-7sss-vxxx-xxxxxxxxxxxx`. */
const TIME_AT = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12] as const;
/** Where mixed nibbles 1…15 go (nibble 0 gives the variant at 19). */
const MIX_AT = [0, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35] as const;
/** One event id is written here as ASCII, then read out as one flat string. */
const scratch = Buffer.from("00000000-0000-7000-8000-000000000000", "latin1");

function hex(value: number, digits: number): string {
  return value.toString(16).padStart(digits, "0");
}

/** Nibble `i` of the span id XOR the trace id's low half (unique per span within a trace). */
const mixed = (traceId: string, spanId: string, i: number): number =>
  (NIBBLES[spanId.charCodeAt(i)] as number) ^ (NIBBLES[traceId.charCodeAt(16 + i)] as number);

/**
 * A UUIDv7 whose time is `timeUs` (milliseconds part) and whose other bits come from the
 * span and slot: time-ordered like every other event id, and the same on every export.
 * Layout: 48 bits of milliseconds, version 7, 12 bits of slot, the RFC variant with the two
 * low bits of the first mixed nibble, then the other 60 bits of span id XOR the trace id's
 * low half. Written digit by digit into one buffer: this runs for every record.
 */
export function spanEventId(traceId: string, spanId: string, slot: number, timeUs: number): string {
  const out = scratch;
  const ms = timeUs > 0 ? Math.min(Math.floor(timeUs / 1000), MAX_MS) : 0;
  let low = ms % 0x1000000;
  let high = (ms - low) / 0x1000000;
  for (let i = 11; i >= 6; i--, low >>>= 4) out[TIME_AT[i] as number] = DIGIT_CODES[low & 15] as number;
  for (let i = 5; i >= 0; i--, high >>>= 4) out[TIME_AT[i] as number] = DIGIT_CODES[high & 15] as number;
  const s = Math.min(slot, MAX_SLOT);
  out[15] = DIGIT_CODES[s >>> 8] as number;
  out[16] = DIGIT_CODES[(s >>> 4) & 15] as number;
  out[17] = DIGIT_CODES[s & 15] as number;
  out[19] = DIGIT_CODES[0x8 | (mixed(traceId, spanId, 0) & 0x3)] as number;
  for (let i = 1; i < 16; i++) out[MIX_AT[i] as number] = DIGIT_CODES[mixed(traceId, spanId, i)] as number;
  return out.toString("latin1", 0, 36);
}

/** The execution id of an `invoke_agent` span: a UUIDv8 of its span id and its trace id's high bits. */
export function executionIdOf(traceId: string, spanId: string): string {
  const variant = hex(0x8 | (Number.parseInt(traceId[3] as string, 16) & 0x3), 1);
  return `${spanId.slice(0, 8)}-${spanId.slice(8, 12)}-8${spanId.slice(12, 15)}-${variant}${spanId.slice(15)}${traceId.slice(0, 2)}-${traceId.slice(4, 16)}`;
}
