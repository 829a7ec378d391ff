import { ConfigError, integerOption } from "@tracehouse/schemas";
import { BaggageLimit, formatBaggageMember, isValidBaggageKey, type BaggageEntry } from "./baggage.js";
import { TraceFlag } from "./traceparent.js";
import { isIdentityKey, restoreTraceContext, type TraceContext } from "./TraceContext.js";

/**
 * What a server takes from a caller's trace context (HTTP headers, a WebSocket payload).
 * The defaults are those of a public edge, where the caller is not trusted; a service
 * called only by your own services can use {@link InboundTrust.internal}.
 */
export interface InboundPolicy {
  /**
   * Take the identity fields (`th.user_id`, `th.thread_id`, `th.correlation_id`) from the
   * caller's baggage. Default: false: a caller cannot choose the user or thread its requests
   * are stored under; the server sets them (`context.with({ userId })`).
   */
  readonly trustIdentity?: boolean;
  /**
   * Honour the caller's sampled flag. Default: false: every inbound request is recorded
   * (sampled) whatever the caller sent, so a caller cannot hide its own requests with `-00`.
   */
  readonly honourSampled?: boolean;
  /**
   * The caller's baggage keys passed on (identity keys aside, see `trustIdentity`), or
   * `"all"`. Default: none.
   */
  readonly allowedBaggageKeys?: readonly string[] | "all";
  /**
   * The most bytes of the caller's baggage kept (serialized, commas and trusted identity
   * entries included), whole members only, in the caller's order. Default: 1024; at most
   * 8192 (the W3C Baggage limit).
   */
  readonly maxBaggageBytes?: number;
}

/** Ready-made policies. */
export const InboundTrust = {
  /** The default: identity and sampled flag ignored, no caller baggage passed on. */
  publicEdge: Object.freeze({
    trustIdentity: false,
    honourSampled: false,
    allowedBaggageKeys: Object.freeze([]),
    maxBaggageBytes: 1024,
  }),
  /** Callers are your own services: everything is taken, within the W3C limits. */
  internal: Object.freeze({
    trustIdentity: true,
    honourSampled: true,
    allowedBaggageKeys: "all",
    maxBaggageBytes: BaggageLimit.maxBytes,
  }),
} as const satisfies Record<string, InboundPolicy>;

/** An {@link InboundPolicy} with every field resolved. */
export interface InboundConfig {
  readonly trustIdentity: boolean;
  readonly honourSampled: boolean;
  /** null: every key. */
  readonly allowedBaggageKeys: ReadonlySet<string> | null;
  readonly maxBaggageBytes: number;
}

/** Resolves a policy over the public-edge defaults; throws ConfigError on an invalid field. */
export function resolveInboundPolicy(policy: InboundPolicy = {}): InboundConfig {
  const defaults = InboundTrust.publicEdge;
  const keys = policy.allowedBaggageKeys ?? defaults.allowedBaggageKeys;
  if (keys !== "all") {
    if (!Array.isArray(keys)) throw new ConfigError(`allowedBaggageKeys must be an array of keys or "all"`);
    for (const key of keys)
      if (typeof key !== "string" || !isValidBaggageKey(key))
        throw new ConfigError(`allowedBaggageKeys: ${JSON.stringify(key)} is not a baggage key`);
  }
  const maxBaggageBytes = integerOption(
    policy.maxBaggageBytes,
    defaults.maxBaggageBytes,
    "maxBaggageBytes",
    0,
  );
  if (maxBaggageBytes > BaggageLimit.maxBytes)
    throw new ConfigError(`maxBaggageBytes must be at most ${BaggageLimit.maxBytes}, got ${maxBaggageBytes}`);
  return Object.freeze({
    trustIdentity: policy.trustIdentity ?? defaults.trustIdentity,
    honourSampled: policy.honourSampled ?? defaults.honourSampled,
    allowedBaggageKeys: keys === "all" ? null : new Set(keys),
    maxBaggageBytes,
  });
}

/** The caller's baggage members this policy keeps, within its byte budget. */
function keptBaggage(context: TraceContext, config: InboundConfig): Map<string, BaggageEntry> {
  const kept = new Map<string, BaggageEntry>();
  let bytes = 0;
  for (const [key, entry] of context.toBaggage()) {
    const allowed = isIdentityKey(key)
      ? config.trustIdentity
      : config.allowedBaggageKeys === null || config.allowedBaggageKeys.has(key);
    if (!allowed) continue;
    const size = (kept.size === 0 ? 0 : 1) + formatBaggageMember(key, entry).length;
    if (bytes + size > config.maxBaggageBytes) continue;
    bytes += size;
    kept.set(key, entry);
  }
  return kept;
}

function sameBaggage(context: TraceContext, kept: ReadonlyMap<string, BaggageEntry>): boolean {
  const identity =
    (context.correlationId === undefined ? 0 : 1) +
    (context.userId === undefined ? 0 : 1) +
    (context.threadId === undefined ? 0 : 1);
  return kept.size === identity + context.baggage.size;
}

/**
 * The context a server handles an inbound request in: `incoming` (as read from the
 * request) less what `config` does not take from the caller. Never throws.
 */
export function applyInboundPolicy(incoming: TraceContext, config: InboundConfig): TraceContext {
  const flags = config.honourSampled ? incoming.traceFlags : incoming.traceFlags | TraceFlag.Sampled;
  const kept = keptBaggage(incoming, config);
  if (flags === incoming.traceFlags && sameBaggage(incoming, kept)) return incoming;
  return restoreTraceContext({
    traceparent: { traceId: incoming.traceId, spanId: incoming.spanId, traceFlags: flags },
    spanStack: incoming.spanStack,
    isRemote: incoming.isRemote,
    baggage: kept,
    tracestate: incoming.tracestate,
  });
}
