export interface CollectedTraceHeaders {
  readonly traceparent: string[];
  readonly tracestate: string[];
  readonly baggage: string[];
}

function decode(value: unknown, into: string[]): void {
  if (typeof value === "string") {
    into.push(value);
  } else if (Buffer.isBuffer(value)) {
    into.push(value.toString("latin1"));
  } else if (value instanceof Uint8Array) {
    into.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("latin1"));
  } else if (Array.isArray(value)) {
    for (const item of value) decode(item, into);
  }
}

/**
 * Collects every value of `traceparent`, `tracestate` and `baggage` in one pass over
 * the carrier's own names, whatever their case. Anything unreadable is skipped.
 */
export function collectTraceHeaders(carrier: unknown): CollectedTraceHeaders {
  const found: CollectedTraceHeaders = { traceparent: [], tracestate: [], baggage: [] };
  if (typeof carrier !== "object" || carrier === null) return found;
  const record = carrier as Record<string, unknown>;
  for (const name of Object.keys(record)) {
    const length = name.length;
    if (length !== 11 && length !== 10 && length !== 7) continue;
    const lower = name.toLowerCase();
    if (lower === "traceparent") decode(record[name], found.traceparent);
    else if (lower === "tracestate") decode(record[name], found.tracestate);
    else if (lower === "baggage") decode(record[name], found.baggage);
  }
  return found;
}

/** True for `traceparent`, `tracestate` or `baggage` in any case. */
export function isTraceHeaderName(name: string): boolean {
  const length = name.length;
  if (length !== 11 && length !== 10 && length !== 7) return false;
  const lower = name.toLowerCase();
  return lower === "traceparent" || lower === "tracestate" || lower === "baggage";
}
