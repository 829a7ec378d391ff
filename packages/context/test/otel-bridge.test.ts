import { expect } from "chai";
import {
  baggageEntryMetadataFromString,
  createTraceState,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
} from "@opentelemetry/api";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import {
  fromOtelContext,
  fromSpanContext,
  toOtelContext,
  toSpanContext,
  TraceContext,
} from "../src/index.js";

const otelPropagator = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});

describe("OpenTelemetry bridge", () => {
  const context = TraceContext.create({
    correlationId: "c-1",
    userId: "alice",
    baggage: { tenant: { value: "acme corp", metadata: "p1;p2=v" } },
    tracestate: ["congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7"],
  }).child();

  it("toSpanContext shares ids, flags and tracestate", () => {
    const spanContext = toSpanContext(context);
    expect(spanContext.traceId).to.equal(context.traceId);
    expect(spanContext.spanId).to.equal(context.spanId);
    expect(spanContext.traceFlags & TraceFlags.SAMPLED).to.equal(TraceFlags.SAMPLED);
    expect(spanContext.isRemote).to.equal(false);
    expect(spanContext.traceState?.serialize()).to.equal("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    expect(spanContext.traceState?.get("rojo")).to.equal("00f067aa0ba902b7");
    expect(toSpanContext(TraceContext.create()).traceState).to.equal(undefined);
  });

  it("toOtelContext injects through OTel's W3C propagators exactly as our headers", () => {
    const carrier: Record<string, string> = {};
    otelPropagator.inject(toOtelContext(context), carrier, defaultTextMapSetter);
    const ours = context.toHeaders();
    expect(carrier.traceparent).to.equal(ours.traceparent);
    expect(carrier.tracestate).to.equal(ours.tracestate);
    // OTel writes baggage in its own order and encoding; both must decode to the same entries
    expect([...TraceContext.fromHeaders({ baggage: carrier.baggage }).toBaggage()]).to.deep.equal([
      ...context.toBaggage(),
    ]);
  });

  it("fromOtelContext reads what OTel's propagators extract from our headers", () => {
    const extracted = otelPropagator.extract(ROOT_CONTEXT, context.toHeaders(), defaultTextMapGetter);
    const read = fromOtelContext(extracted);
    expect(read.traceId).to.equal(context.traceId);
    expect(read.spanId).to.equal(context.spanId);
    expect(read.isRemote).to.equal(true);
    expect(read.correlationId).to.equal("c-1");
    expect(read.userId).to.equal("alice");
    expect([...read.baggage]).to.deep.equal([["tenant", { value: "acme corp", metadata: "p1;p2=v" }]]);
    expect(read.tracestate).to.deep.equal(context.tracestate);
  });

  it("round-trips through an OTel context", () => {
    const back = fromOtelContext(toOtelContext(context), context);
    expect(back.toJSON()).to.deep.equal(context.toJSON());
  });

  it("toOtelContext replaces the baggage of the given context, keeping its other values", () => {
    const base = propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage({ stale: { value: "1" } }));
    const bare = toOtelContext(TraceContext.create(), base);
    expect(propagation.getBaggage(bare)).to.equal(undefined);
    const withBaggage = toOtelContext(context, base);
    expect(propagation.getBaggage(withBaggage)?.getEntry("stale")).to.equal(undefined);
    expect(propagation.getBaggage(withBaggage)?.getEntry("th.user_id")?.value).to.equal("alice");
  });

  it("fromSpanContext takes a span started under base as its child", () => {
    const spanContext = { traceId: context.traceId, spanId: "1111111111111111", traceFlags: 1 };
    const span = fromSpanContext(spanContext, context);
    expect(span.spanId).to.equal("1111111111111111");
    expect(span.parentSpanId).to.equal(context.spanId);
    expect(span.spanStack).to.deep.equal([...context.spanStack, context.spanId]);
    expect(span.userId).to.equal("alice");
    expect(span.baggage).to.deep.equal(context.baggage);
    expect(fromSpanContext(toSpanContext(context), context).spanStack).to.deep.equal(context.spanStack);
  });

  it("fromSpanContext of another trace has no ancestry and keeps base's identity", () => {
    const other = TraceContext.create();
    const span = fromSpanContext(toSpanContext(other), context);
    expect(span.traceId).to.equal(other.traceId);
    expect(span.spanStack).to.deep.equal([]);
    expect(span.userId).to.equal("alice");
  });

  it("fromSpanContext lowercases ids, masks unknown flags and keeps a valid OTel tracestate", () => {
    const span = fromSpanContext({
      traceId: "0AF7651916CD43DD8448EB211C80319C",
      spanId: "B7AD6B7169203331",
      traceFlags: 0xff,
      isRemote: true,
      traceState: createTraceState("a=1,b=2"),
    });
    expect(span.traceId).to.equal("0af7651916cd43dd8448eb211c80319c");
    expect(span.spanId).to.equal("b7ad6b7169203331");
    expect(span.traceFlags).to.equal(3);
    expect(span.isRemote).to.equal(true);
    expect(span.tracestate).to.deep.equal(["a=1", "b=2"]);
  });

  it("falls back to base, or a new trace, for invalid span contexts", () => {
    const invalid = { traceId: "0".repeat(32), spanId: "0".repeat(16), traceFlags: 0 };
    expect(fromSpanContext(invalid, context)).to.equal(context);
    expect(fromSpanContext(invalid).traceId).to.match(/^[0-9a-f]{32}$/);
    expect(fromSpanContext(null as never).traceId).to.match(/^[0-9a-f]{32}$/);
    expect(fromOtelContext(ROOT_CONTEXT, context)).to.equal(context);
  });

  it("carries any token key, __proto__ included", () => {
    const tricky = TraceContext.create({
      baggage: new Map([
        ["__proto__", { value: "p" }],
        ["constructor", { value: "c" }],
      ]),
    });
    const otelBaggage = propagation.getBaggage(toOtelContext(tricky));
    expect(otelBaggage?.getEntry("__proto__")?.value).to.equal("p");
    expect([...fromOtelContext(toOtelContext(tricky)).baggage.keys()]).to.deep.equal([
      "__proto__",
      "constructor",
    ]);
  });

  it("fromOtelContext drops baggage the W3C header could not carry", () => {
    const otel = propagation.setBaggage(
      trace.setSpanContext(ROOT_CONTEXT, toSpanContext(context)),
      propagation.createBaggage({
        "bad key": { value: "x" },
        good: { value: "y", metadata: baggageEntryMetadataFromString("p") },
        badmeta: { value: "z", metadata: baggageEntryMetadataFromString("a b") },
      }),
    );
    expect([...fromOtelContext(otel).baggage]).to.deep.equal([["good", { value: "y", metadata: "p" }]]);
  });
});

describe("OpenTelemetry bridge with a real tracer attached", () => {
  const provider = new BasicTracerProvider();
  const tracer = provider.getTracer("bridge-test");
  after(() => provider.shutdown());

  function spanUnder(parent: TraceContext): TraceContext {
    const span = tracer.startSpan("child", {}, toOtelContext(parent));
    try {
      return fromSpanContext(span.spanContext(), parent);
    } finally {
      span.end();
    }
  }

  it("keeps the incoming Level 2 random flag: 03 stays 03", () => {
    const incoming = TraceContext.fromHeaders({
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03",
    });
    const child = spanUnder(incoming);
    expect(child.traceId).to.equal(incoming.traceId);
    expect(child.parentSpanId).to.equal(incoming.spanId);
    expect(child.traceparent.endsWith("-03")).to.equal(true);
    expect(spanUnder(TraceContext.create()).traceFlags).to.equal(3);
  });

  it("does not add the random flag the caller did not set", () => {
    const incoming = TraceContext.fromHeaders({
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    });
    expect(spanUnder(incoming).traceparent.endsWith("-01")).to.equal(true);
  });

  it("takes no flag from a base in another trace", () => {
    const other = TraceContext.create();
    const span = tracer.startSpan("root", { root: true });
    span.end();
    expect(fromSpanContext(span.spanContext(), other).traceFlags).to.equal(1);
  });
});
