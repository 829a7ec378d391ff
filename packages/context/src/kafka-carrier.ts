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
  const trace = context.toHeaders();
  const headers: Record<string, Buffer> = {};
  if (extra !== undefined) {
    for (const name of Object.keys(extra)) {
      if (isTraceHeaderName(name)) continue;
      const value = extra[name] as string | Buffer;
      // defineProperty keeps a header named "__proto__" an ordinary header
      Object.defineProperty(headers, name, {
        value: typeof value === "string" ? Buffer.from(value, "utf8") : value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  headers.traceparent = Buffer.from(trace.traceparent, "latin1");
  if (trace.tracestate !== undefined) headers.tracestate = Buffer.from(trace.tracestate, "latin1");
  if (trace.baggage !== undefined) headers.baggage = Buffer.from(trace.baggage, "latin1");
  return headers;
}

/** The context of a consumed Kafka record; a new trace when its headers carry none. Never throws. */
export function fromKafkaHeaders(headers: HeaderCarrier | null | undefined): TraceContext {
  return TraceContext.fromHeaders(headers);
}
