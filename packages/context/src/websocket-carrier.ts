import {
  applyInboundPolicy,
  resolveInboundPolicy,
  type InboundConfig,
  type InboundPolicy,
} from "./inbound-policy.js";
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
 * the payload carries none or an invalid one. What is taken from the sender follows
 * `inbound`, by default {@link InboundTrust.publicEdge} (a browser or any other untrusted
 * client): give {@link InboundTrust.internal} for events from your own services. Throws
 * ConfigError on an invalid policy only; resolve it once with {@link readWebSocketEvents}
 * on a hot path.
 */
export function contextFromWebSocketEvent(payload: unknown, inbound?: InboundPolicy): TraceContext {
  return applyInboundPolicy(stampedContext(payload), resolveInboundPolicy(inbound));
}

/**
 * A reader of WebSocket events under one inbound policy, resolved once (throws ConfigError
 * here when it is invalid); the reader never throws.
 */
export function readWebSocketEvents(inbound?: InboundPolicy): (payload: unknown) => TraceContext {
  const config: InboundConfig = resolveInboundPolicy(inbound);
  return (payload) => applyInboundPolicy(stampedContext(payload), config);
}

function stampedContext(payload: unknown): TraceContext {
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
