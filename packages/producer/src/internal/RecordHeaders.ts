import { CONTENT_TYPE_HEADER, contentTypeOf, RECORD_TYPES } from "@tracehouse/schemas";
import type { RecordType } from "@tracehouse/schemas";
import { formatTraceparent, TraceFlag } from "@tracehouse/context";
import type { TraceContext, TraceHeaders } from "@tracehouse/context";

/** A record's Kafka headers and their bytes (names and values), as counted in its size. */
export interface HeadersOf {
  readonly headers: Readonly<Record<string, string>>;
  readonly bytes: number;
}

function headersOf(headers: Record<string, string>): HeadersOf {
  let bytes = 0;
  for (const name in headers) bytes += name.length + (headers[name] as string).length;
  return { headers: Object.freeze(headers), bytes };
}

/**
 * The headers of a record: its content type and the W3C headers of its context. Records of
 * one context and type share one frozen headers object, made once: emit allocates none.
 */
export class RecordHeaders {
  readonly #contentTypes = {} as Record<RecordType, string>;
  readonly #cache = new WeakMap<TraceHeaders, Partial<Record<RecordType, HeadersOf>>>();

  constructor() {
    for (const type of RECORD_TYPES) this.#contentTypes[type] = contentTypeOf(type);
  }

  /** The headers of a record of `type` with these ids, in `ctx` when it is the record's trace. */
  of(type: RecordType, ctx: TraceContext | undefined, traceId: string, spanId: string): HeadersOf {
    if (ctx === undefined || ctx.traceId !== traceId) {
      const traceparent = formatTraceparent({ traceId, spanId, traceFlags: TraceFlag.Sampled });
      return headersOf({ [CONTENT_TYPE_HEADER]: this.#contentTypes[type], traceparent });
    }
    const trace = ctx.toHeaders();
    let byType = this.#cache.get(trace);
    if (byType === undefined) {
      byType = {};
      this.#cache.set(trace, byType);
    }
    let made = byType[type];
    if (made === undefined) {
      const headers: Record<string, string> = {
        [CONTENT_TYPE_HEADER]: this.#contentTypes[type],
        traceparent: trace.traceparent,
      };
      if (trace.tracestate !== undefined) headers.tracestate = trace.tracestate;
      if (trace.baggage !== undefined) headers.baggage = trace.baggage;
      made = headersOf(headers);
      byType[type] = made;
    }
    return made;
  }
}
