import type {
  OtlpEvent,
  OtlpExport,
  OtlpLink,
  OtlpScope,
  OtlpSpan,
  OtlpSpanGroup,
  TextAttributes,
} from "./model.js";

/**
 * What the protobuf and JSON decoders share: both hand over objects of the OTLP message
 * shape (protobufjs messages, or parsed JSON with the proto3 JSON field names), and this
 * module checks them and turns them into the receiver's model. Nothing here trusts its input.
 */

/** protobufjs' 64-bit integer (the `long` package), as fixed64/int64 fields decode. */
interface LongLike {
  readonly low: number;
  readonly high: number;
  readonly unsigned: boolean;
  toString(): string;
}

type Raw = Record<string, unknown>;

const MAX_VALUE_DEPTH = 16;
const HEX = /^[0-9a-fA-F]*$/;
const DIGITS = /^\d{1,20}$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/** A span that cannot be accepted; the request goes on without it. */
export class SpanRejection extends Error {
  override readonly name = "SpanRejection";
}

/** The whole payload is malformed. */
export class PayloadError extends Error {
  override readonly name = "PayloadError";
}

function isLong(value: unknown): value is LongLike {
  return typeof value === "object" && value !== null && "low" in value && "high" in value;
}

const asObject = (value: unknown): Raw | null =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
    ? (value as Raw)
    : null;

function asArray(value: unknown, what: string): readonly unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new PayloadError(`${what} must be an array`);
  return value;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** Lowercase hex of an id, from bytes (protobuf) or hex text (JSON); "" when absent. */
function hexOf(value: unknown, what: string): string {
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex");
  if (value === undefined || value === null) return "";
  if (typeof value === "string" && HEX.test(value)) return value.toLowerCase();
  throw new SpanRejection(`${what} is not hex`);
}

/** An id: lowercase hex of `bytes` bytes, or null when absent. */
function idOf(value: unknown, bytes: number, what: string): string | null {
  const hex = hexOf(value, what);
  if (hex.length === 0) return null;
  if (hex.length !== bytes * 2)
    throw new SpanRejection(`${what} must be ${bytes} bytes, got ${hex.length / 2}`);
  return hex;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/**
 * Trace ids as text, converted once per run of spans of the same trace (an exporter sends
 * a trace's spans together), so its spans share one string.
 */
class TraceIds {
  #bytes: Uint8Array | null = null;
  #hex: string | null = null;

  of(value: unknown): string | null {
    if (value instanceof Uint8Array && this.#bytes !== null && sameBytes(value, this.#bytes))
      return this.#hex;
    const hex = idOf(value, 16, "traceId");
    this.#bytes = value instanceof Uint8Array ? value : null;
    this.#hex = hex;
    return hex;
  }
}

/** Microseconds since the epoch from fixed64 nanoseconds (Long, number or decimal text); exact. */
export function microsOf(value: unknown, what: string): number {
  if (value === undefined || value === null) return 0;
  if (isLong(value)) {
    const high = value.high >>> 0;
    const low = value.low >>> 0;
    // ns = high * 2^32 + low, and 2^32 = 4294967 * 1000 + 296: exact in doubles
    return high * 4294967 + Math.floor((high * 296 + low) / 1000);
  }
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) return Math.floor(value / 1000);
  if (typeof value === "string" && DIGITS.test(value)) {
    const ns = BigInt(value);
    if (ns <= 0xffffffffffffffffn) return Number(ns / 1000n);
  }
  throw new SpanRejection(`${what} is not an unsigned 64-bit nanosecond time`);
}

/** A 64-bit integer as a number when it is a safe integer (most are), else null. */
function safeIntegerOf(value: LongLike): number | null {
  const high = value.unsigned ? value.high >>> 0 : value.high | 0;
  const number = high * 0x100000000 + (value.low >>> 0);
  return Number.isSafeInteger(number) ? number : null;
}

type JsValue = string | number | boolean | null | JsValue[] | { [key: string]: JsValue };

/** An AnyValue as a plain value; nesting deeper than 16 levels is cut to "…". */
function anyValue(value: unknown, depth: number): JsValue {
  const raw = asObject(value);
  if (raw === null) return null;
  if (depth > MAX_VALUE_DEPTH) return "…";
  if (raw.stringValue !== undefined && raw.stringValue !== null) return text(raw.stringValue);
  if (raw.boolValue !== undefined && raw.boolValue !== null) return raw.boolValue === true;
  if (raw.intValue !== undefined && raw.intValue !== null) {
    const small = isLong(raw.intValue) ? safeIntegerOf(raw.intValue) : null;
    if (small !== null) return small;
    const digits = isLong(raw.intValue) ? raw.intValue.toString() : String(raw.intValue);
    if (!/^-?\d+$/.test(digits)) return null;
    const number = Number(digits);
    return Number.isSafeInteger(number) ? number : digits;
  }
  if (raw.doubleValue !== undefined && raw.doubleValue !== null) {
    const number = Number(raw.doubleValue);
    return Number.isFinite(number) ? number : String(raw.doubleValue);
  }
  if (raw.bytesValue !== undefined && raw.bytesValue !== null) {
    return raw.bytesValue instanceof Uint8Array
      ? Buffer.from(raw.bytesValue).toString("base64")
      : text(raw.bytesValue);
  }
  const array = asObject(raw.arrayValue);
  if (array !== null)
    return asArray(array.values, "arrayValue.values").map((item) => anyValue(item, depth + 1));
  const kvlist = asObject(raw.kvlistValue);
  if (kvlist !== null) {
    const out: Record<string, JsValue> = {};
    for (const entry of asArray(kvlist.values, "kvlistValue.values")) {
      const kv = asObject(entry);
      if (kv !== null) out[text(kv.key)] = anyValue(kv.value, depth + 1);
    }
    return out;
  }
  return null;
}

/** KeyValue list → text attributes (later keys win; empty keys and empty values are skipped). */
export function attributesOf(list: unknown, what = "attributes"): TextAttributes {
  const out: TextAttributes = {};
  for (const entry of asArray(list, what)) {
    const kv = asObject(entry);
    if (kv === null) continue;
    const key = text(kv.key);
    if (key === "") continue;
    const stringValue = (kv.value as Raw | null | undefined)?.stringValue;
    if (typeof stringValue === "string") {
      out[key] = stringValue;
      continue;
    }
    const value = anyValue(kv.value, 0);
    if (value === null) continue;
    out[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}

const NO_EVENTS: readonly OtlpEvent[] = Object.freeze([]);
const NO_LINKS: readonly OtlpLink[] = Object.freeze([]);

function eventsOf(value: unknown): readonly OtlpEvent[] {
  const list = asArray(value, "events");
  if (list.length === 0) return NO_EVENTS;
  const events: OtlpEvent[] = [];
  for (const item of list) {
    const event = asObject(item) ?? {};
    events.push({
      name: text(event.name),
      timeUs: microsOf(event.timeUnixNano, "event timeUnixNano"),
      attributes: attributesOf(event.attributes),
    });
  }
  return events;
}

function linksOf(value: unknown): readonly OtlpLink[] {
  const list = asArray(value, "links");
  if (list.length === 0) return NO_LINKS;
  const links: OtlpLink[] = [];
  for (const item of list) {
    const link = asObject(item) ?? {};
    const linkTrace = idOf(link.traceId, 16, "link traceId");
    const linkSpan = idOf(link.spanId, 8, "link spanId");
    if (linkTrace !== null && linkSpan !== null)
      links.push({ traceId: linkTrace, spanId: linkSpan, attributes: attributesOf(link.attributes) });
  }
  return links;
}

function spanOf(raw: Raw, traceIds: TraceIds): OtlpSpan {
  const traceId = traceIds.of(raw.traceId);
  const spanId = idOf(raw.spanId, 8, "spanId");
  if (traceId === null || traceId === ZERO_TRACE) throw new SpanRejection("traceId is missing or zero");
  if (spanId === null || spanId === ZERO_SPAN) throw new SpanRejection("spanId is missing or zero");
  const parent = idOf(raw.parentSpanId, 8, "parentSpanId");
  const startUs = microsOf(raw.startTimeUnixNano, "startTimeUnixNano");
  const endUs = Math.max(startUs, microsOf(raw.endTimeUnixNano, "endTimeUnixNano"));
  const status = asObject(raw.status);
  const events = eventsOf(raw.events);
  const links = linksOf(raw.links);
  return {
    traceId,
    spanId,
    parentSpanId: parent === ZERO_SPAN ? null : parent,
    name: text(raw.name),
    kind: typeof raw.kind === "number" ? raw.kind : 0,
    startUs,
    endUs,
    attributes: attributesOf(raw.attributes),
    events,
    links,
    statusCode: typeof status?.code === "number" ? status.code : 0,
    statusMessage:
      status !== null && typeof status.message === "string" && status.message !== "" ? status.message : null,
  };
}

function scopeOf(value: unknown): OtlpScope {
  const raw = asObject(value) ?? {};
  return { name: text(raw.name), version: text(raw.version), attributes: attributesOf(raw.attributes) };
}

/** ExportTraceServiceRequest (as an object) → the receiver's model; bad spans are counted, not fatal. */
export function exportOf(request: unknown, maxSpans: number): OtlpExport {
  const root = asObject(request);
  if (root === null) throw new PayloadError("the request is not an ExportTraceServiceRequest object");
  const groups: OtlpSpanGroup[] = [];
  let spanCount = 0;
  let rejected = 0;
  let rejectReason: string | null = null;
  const traceIds = new TraceIds();
  for (const item of asArray(root.resourceSpans, "resourceSpans")) {
    const resourceSpans = asObject(item) ?? {};
    const resource = attributesOf(asObject(resourceSpans.resource)?.attributes, "resource.attributes");
    for (const scoped of asArray(resourceSpans.scopeSpans, "scopeSpans")) {
      const scopeSpans = asObject(scoped) ?? {};
      const spans: OtlpSpan[] = [];
      for (const rawSpan of asArray(scopeSpans.spans, "spans")) {
        spanCount += 1;
        if (spanCount > maxSpans) throw new PayloadError(`more than ${maxSpans} spans in one request`);
        try {
          spans.push(spanOf(asObject(rawSpan) ?? {}, traceIds));
        } catch (error) {
          if (!(error instanceof SpanRejection)) throw error;
          rejected += 1;
          rejectReason ??= error.message;
        }
      }
      if (spans.length > 0) groups.push({ resource, scope: scopeOf(scopeSpans.scope), spans });
    }
  }
  return { groups, spanCount, rejected, rejectReason };
}
