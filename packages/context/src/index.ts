export { TraceContext, TraceHeader, ContextBaggageKey } from "./TraceContext.js";
export type {
  TraceHeaders,
  TraceContextInit,
  TraceContextChanges,
  ChildOptions,
  BaggageInput,
} from "./TraceContext.js";
export { parseTraceparent, formatTraceparent, TraceFlag } from "./traceparent.js";
export type { Traceparent } from "./traceparent.js";
export {
  parseTracestate,
  formatTracestate,
  isValidTracestateKey,
  isValidTracestateValue,
  TracestateLimit,
} from "./tracestate.js";
export {
  parseBaggage,
  formatBaggage,
  encodeBaggageValue,
  decodeBaggageValue,
  isValidBaggageKey,
  BaggageLimit,
} from "./baggage.js";
export type { Baggage, BaggageEntry } from "./baggage.js";
export type { HeaderCarrier, HeaderValue } from "./header-carrier.js";
export type { ContextManager } from "./context-manager.js";
export { AsyncContextManager } from "./AsyncContextManager.js";
export { defaultContextManager, runWithContext, currentContext, bindEmitter } from "./async-context.js";
export { toKafkaHeaders, fromKafkaHeaders } from "./kafka-carrier.js";
export { injectHttpHeaders, createHttpMiddleware, contextFromHttpRequest } from "./http-carrier.js";
export type {
  HttpHeaderTarget,
  HttpMiddlewareOptions,
  HttpRequestContextOptions,
  HttpRequestLike,
  NextFunction,
} from "./http-carrier.js";
export { stampWebSocketEvent, contextFromWebSocketEvent, readWebSocketEvents } from "./websocket-carrier.js";
export { InboundTrust, resolveInboundPolicy, applyInboundPolicy } from "./inbound-policy.js";
export type { InboundPolicy, InboundConfig } from "./inbound-policy.js";
export type { WebSocketTrace } from "./websocket-carrier.js";
export { toSpanContext, fromSpanContext, toOtelContext, fromOtelContext } from "./otel-bridge.js";
