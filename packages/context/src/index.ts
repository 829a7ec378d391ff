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
