import type { HeaderCarrier } from "./header-carrier.js";
import { isTraceHeaderName } from "./internal/carrier.js";
import { TraceContext } from "./TraceContext.js";

/**
 * Kafka record headers for a context: `traceparent`, plus `tracestate` and `baggage` when
 * non-empty, as Buffers. `extra` headers (e.g. `content-type`) are copied first; one
 * named like a trace header, in any case, is replaced by the context's.
 */
export function toKafkaHeaders(
  context: TraceContext,
  extra?: Readonly<Record<string, string | Buffer>>,
): Record<string, Buffer> {
  const entries: [string, Buffer][] = [];
  if (extra !== undefined) {
    for (const [name, value] of Object.entries(extra)) {
      if (!isTraceHeaderName(name))
        entries.push([name, typeof value === "string" ? Buffer.from(value, "utf8") : value]);
    }
  }
  const trace = context.toHeaders();
  entries.push(["traceparent", Buffer.from(trace.traceparent, "latin1")]);
  if (trace.tracestate !== undefined) entries.push(["tracestate", Buffer.from(trace.tracestate, "latin1")]);
  if (trace.baggage !== undefined) entries.push(["baggage", Buffer.from(trace.baggage, "latin1")]);
  return Object.fromEntries(entries);
}

/** The context of a consumed Kafka record; a new trace when its headers carry none. Never throws. */
export function fromKafkaHeaders(headers: HeaderCarrier | null | undefined): TraceContext {
  return TraceContext.fromHeaders(headers);
}
