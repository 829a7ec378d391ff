import { TraceContext } from "./TraceContext.js";

/** The `trace` field stamped on WebSocket event payloads. */
export interface WebSocketTrace {
  readonly traceparent: string;
  readonly tracestate?: string;
  readonly baggage?: string;
}

/** Returns a copy of `payload` with a `trace` field carrying the context's W3C headers. */
export function stampWebSocketEvent<T extends object>(
  payload: T,
  context: TraceContext,
): T & { trace: WebSocketTrace } {
  return { ...payload, trace: context.toHeaders() };
}

/**
 * The context stamped on a WebSocket event (an object or its JSON text); a new trace when
 * the payload carries none or an invalid one. Never throws.
 */
export function contextFromWebSocketEvent(payload: unknown): TraceContext {
  let event = payload;
  if (typeof payload === "string") {
    try {
      event = JSON.parse(payload);
    } catch {
      return TraceContext.create();
    }
  }
  const trace =
    typeof event === "object" && event !== null ? (event as { trace?: unknown }).trace : undefined;
  if (typeof trace !== "object" || trace === null) return TraceContext.create();
  const { traceparent, tracestate, baggage } = trace as Record<string, unknown>;
  return TraceContext.fromHeaders({
    traceparent: typeof traceparent === "string" ? traceparent : undefined,
    tracestate: typeof tracestate === "string" ? tracestate : undefined,
    baggage: typeof baggage === "string" ? baggage : undefined,
  });
}
