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

function collect(found: CollectedTraceHeaders, name: string, value: unknown): void {
  const length = name.length;
  if (length !== 11 && length !== 10 && length !== 7) return;
  const lower = name.toLowerCase();
  if (lower === "traceparent") decode(value, found.traceparent);
  else if (lower === "tracestate") decode(value, found.tracestate);
  else if (lower === "baggage") decode(value, found.baggage);
}

/**
 * Collects every value of `traceparent`, `tracestate` and `baggage` in one pass over
 * the carrier's names, whatever their case: a record's own properties, or the entries of a
 * fetch `Headers` or a `Map`. Anything unreadable is skipped.
 */
export function collectTraceHeaders(carrier: unknown): CollectedTraceHeaders {
  const found: CollectedTraceHeaders = { traceparent: [], tracestate: [], baggage: [] };
  if (typeof carrier !== "object" || carrier === null || Array.isArray(carrier)) return found;
  const forEach = (carrier as { forEach?: unknown }).forEach;
  if (typeof forEach === "function") {
    forEach.call(carrier, (value: unknown, name: unknown) => {
      if (typeof name === "string") collect(found, name, value);
    });
    return found;
  }
  const record = carrier as Record<string, unknown>;
  for (const name of Object.keys(record)) collect(found, name, record[name]);
  return found;
}

/** True for `traceparent`, `tracestate` or `baggage` in any case. */
export function isTraceHeaderName(name: string): boolean {
  const length = name.length;
  if (length !== 11 && length !== 10 && length !== 7) return false;
  const lower = name.toLowerCase();
  return lower === "traceparent" || lower === "tracestate" || lower === "baggage";
}
