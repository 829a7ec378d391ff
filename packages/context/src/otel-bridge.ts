import {
  baggageEntryMetadataFromString,
  createTraceState,
  propagation,
  ROOT_CONTEXT,
  trace,
  type BaggageEntry as OtelBaggageEntry,
  type Context,
  type SpanContext,
} from "@opentelemetry/api";
import { isValidBaggageKey, normalizeBaggageMetadata, type Baggage, type BaggageEntry } from "./baggage.js";
import { isValidSpanId, isValidTraceId } from "./internal/ids.js";
import { TraceFlag } from "./traceparent.js";
import { formatTracestate, parseTracestate } from "./tracestate.js";
import { restoreTraceContext, TraceContext } from "./TraceContext.js";

const KNOWN_FLAGS = TraceFlag.Sampled | TraceFlag.Random;

/** The OpenTelemetry span context with the same ids, flags and tracestate. */
export function toSpanContext(context: TraceContext): SpanContext {
  const spanContext: SpanContext = {
    traceId: context.traceId,
    spanId: context.spanId,
    traceFlags: context.traceFlags,
    isRemote: context.isRemote,
  };
  if (context.tracestate.length > 0)
    spanContext.traceState = createTraceState(formatTracestate(context.tracestate));
  return spanContext;
}

function stackUnder(spanContext: SpanContext, base: TraceContext | undefined): readonly string[] {
  if (base === undefined || base.traceId !== spanContext.traceId) return [];
  if (base.spanId === spanContext.spanId) return base.spanStack;
  return [...base.spanStack, base.spanId];
}

/**
 * A trace context for an OpenTelemetry span. Identity fields and baggage come from `base`;
 * when `base` is in the same trace the span is taken to have been started under `base`'s
 * span (the usual `tracer.startSpan(name, {}, toOtelContext(base))`), so its ancestry is
 * `base`'s stack plus `base`'s span, and it keeps `base`'s Level 2 random flag. An invalid
 * span context yields `base`, or a new trace. Never throws.
 */
export function fromSpanContext(spanContext: SpanContext, base?: TraceContext): TraceContext {
  const traceId = typeof spanContext?.traceId === "string" ? spanContext.traceId.toLowerCase() : undefined;
  const spanId = typeof spanContext?.spanId === "string" ? spanContext.spanId.toLowerCase() : undefined;
  if (!isValidTraceId(traceId) || !isValidSpanId(spanId)) return base ?? TraceContext.create();
  let tracestate: readonly string[] | null = null;
  try {
    tracestate = parseTracestate(spanContext.traceState?.serialize() ?? "");
  } catch {
    tracestate = null;
  }
  const normalized = { ...spanContext, traceId, spanId };
  let traceFlags = (Number(spanContext.traceFlags) || 0) & KNOWN_FLAGS;
  // the Level 2 random flag describes the trace id, which OTel's SDK does not know of: a span
  // it starts in base's trace carries only the sampled flag, and keeps base's random flag here
  if (base !== undefined && base.traceId === traceId) traceFlags |= base.traceFlags & TraceFlag.Random;
  return restoreTraceContext({
    traceparent: { traceId, spanId, traceFlags },
    spanStack: stackUnder(normalized, base),
    isRemote: spanContext.isRemote === true,
    baggage: base?.baggage ?? new Map(),
    identity:
      base === undefined
        ? undefined
        : { correlationId: base.correlationId, userId: base.userId, threadId: base.threadId },
    tracestate: tracestate ?? [],
  });
}

function otelEntries(context: TraceContext): Record<string, OtelBaggageEntry> {
  return Object.fromEntries(
    Array.from(context.toBaggage(), ([key, entry]): [string, OtelBaggageEntry] => [
      key,
      entry.metadata === undefined
        ? { value: entry.value }
        : { value: entry.value, metadata: baggageEntryMetadataFromString(entry.metadata) },
    ]),
  );
}

/**
 * An OpenTelemetry context carrying this context's span (as a non-recording span context)
 * and its baggage, identity fields included. The baggage replaces any in `otelContext`.
 */
export function toOtelContext(context: TraceContext, otelContext: Context = ROOT_CONTEXT): Context {
  const withSpan = trace.setSpanContext(otelContext, toSpanContext(context));
  const entries = otelEntries(context);
  if (Object.keys(entries).length === 0) return propagation.deleteBaggage(withSpan);
  return propagation.setBaggage(withSpan, propagation.createBaggage(entries));
}

function baggageFromOtel(otelContext: Context): Baggage | undefined {
  const otelBaggage = propagation.getBaggage(otelContext);
  if (otelBaggage === undefined) return undefined;
  const baggage = new Map<string, BaggageEntry>();
  for (const [key, entry] of otelBaggage.getAllEntries()) {
    if (!isValidBaggageKey(key) || typeof entry.value !== "string") continue;
    const raw = entry.metadata?.toString();
    if (raw === undefined || raw === "") {
      baggage.set(key, { value: entry.value });
      continue;
    }
    const metadata = normalizeBaggageMetadata(raw);
    if (metadata !== null) baggage.set(key, { value: entry.value, metadata });
  }
  return baggage;
}

/**
 * The trace context of an OpenTelemetry context: its span context (see
 * {@link fromSpanContext}) and its baggage, from which the identity fields are read.
 * Entries whose key or metadata the W3C header could not carry are dropped. Without
 * OTel baggage, `base`'s baggage is kept. Never throws.
 */
export function fromOtelContext(otelContext: Context, base?: TraceContext): TraceContext {
  try {
    const baggage = baggageFromOtel(otelContext);
    const spanContext = trace.getSpanContext(otelContext);
    const fromSpan = spanContext === undefined ? undefined : fromSpanContext(spanContext, base);
    const target = fromSpan ?? base ?? TraceContext.create();
    if (baggage === undefined) return target;
    return restoreTraceContext({
      traceparent: target,
      spanStack: target.spanStack,
      isRemote: target.isRemote,
      baggage,
      tracestate: target.tracestate,
    });
  } catch {
    return base ?? TraceContext.create();
  }
}
