import { expect } from "chai";
import {
  contextFromWebSocketEvent,
  InboundTrust,
  fromKafkaHeaders,
  stampWebSocketEvent,
  toKafkaHeaders,
  TraceContext,
} from "../src/index.js";

describe("Kafka header carrier", () => {
  const context = TraceContext.create({
    userId: "u",
    baggage: { tenant: "acme" },
    tracestate: ["th=1"],
  }).child();

  it("writes the trace headers as Buffers", () => {
    const headers = toKafkaHeaders(context);
    expect(Object.keys(headers)).to.deep.equal(["traceparent", "tracestate", "baggage"]);
    for (const value of Object.values(headers)) expect(Buffer.isBuffer(value)).to.equal(true);
    expect(headers.traceparent?.toString()).to.equal(context.traceparent);
    expect(headers.tracestate?.toString()).to.equal("th=1");
    expect(headers.baggage?.toString()).to.equal("th.user_id=u,tenant=acme");
  });

  it("omits empty tracestate and baggage", () => {
    expect(Object.keys(toKafkaHeaders(TraceContext.create()))).to.deep.equal(["traceparent"]);
  });

  it("adds extra headers and never lets them shadow the trace headers", () => {
    const headers = toKafkaHeaders(context, {
      "content-type": "application/vnd.tracehouse.execution+avro",
      "x-bin": Buffer.from([1, 2, 3]),
      TraceParent: "stale",
      baggage: "stale=1",
    });
    expect(Object.keys(headers).sort()).to.deep.equal([
      "baggage",
      "content-type",
      "traceparent",
      "tracestate",
      "x-bin",
    ]);
    expect(headers["content-type"]?.toString()).to.equal("application/vnd.tracehouse.execution+avro");
    expect([...(headers["x-bin"] ?? [])]).to.deep.equal([1, 2, 3]);
    expect(fromKafkaHeaders(headers).spanId).to.equal(context.spanId);
    expect(fromKafkaHeaders(headers).baggage.get("stale")).to.equal(undefined);
  });

  it("keeps an extra header named __proto__ as an ordinary header", () => {
    const extra = JSON.parse('{"__proto__":"x"}') as Record<string, string>;
    const headers = toKafkaHeaders(context, extra);
    expect(Object.keys(headers)).to.include("__proto__");
    expect(Object.getPrototypeOf(headers)).to.equal(Object.prototype);
  });

  it("round-trips a context; the consumer's child has the producer's span as parent", () => {
    const consumed = fromKafkaHeaders(toKafkaHeaders(context));
    expect(consumed.traceId).to.equal(context.traceId);
    expect(consumed.spanId).to.equal(context.spanId);
    expect(consumed.isRemote).to.equal(true);
    expect(consumed.userId).to.equal("u");
    expect(consumed.tracestate).to.deep.equal(["th=1"]);
    expect(consumed.child().parentSpanId).to.equal(context.spanId);
  });

  it("reads header values as string, Buffer or arrays, and starts a new trace without them", () => {
    expect(fromKafkaHeaders({ traceparent: [Buffer.from(context.traceparent)] }).spanId).to.equal(
      context.spanId,
    );
    expect(fromKafkaHeaders({ traceparent: context.traceparent }).spanId).to.equal(context.spanId);
    const fresh = fromKafkaHeaders(undefined);
    expect(fresh.isRemote).to.equal(false);
    expect(fromKafkaHeaders({ traceparent: Buffer.from([0xff, 0xfe]) }).traceId).to.not.equal(
      context.traceId,
    );
  });
});

describe("WebSocket event carrier", () => {
  const context = TraceContext.create({ threadId: "t-1" }).child();

  it("stamps a trace field on a copy of the payload", () => {
    const payload = { type: "tool_call_start", tool: "search" };
    const stamped = stampWebSocketEvent(payload, context);
    expect(stamped).to.deep.equal({
      type: "tool_call_start",
      tool: "search",
      trace: { traceparent: context.traceparent, baggage: "th.thread_id=t-1" },
    });
    expect(payload).to.not.have.property("trace");
  });

  it("reads the context back from the object or its JSON text", () => {
    const stamped = stampWebSocketEvent({ type: "x" }, context);
    for (const received of [
      stamped,
      JSON.stringify(stamped),
      JSON.parse(JSON.stringify(stamped)) as unknown,
    ]) {
      const read = contextFromWebSocketEvent(received, InboundTrust.internal);
      expect(read.traceId).to.equal(context.traceId);
      expect(read.spanId).to.equal(context.spanId);
      expect(read.threadId).to.equal("t-1");
      expect(read.child().parentSpanId).to.equal(context.spanId);
    }
  });

  it("starts a new trace for events without a valid trace field", () => {
    const inputs: unknown[] = [
      undefined,
      null,
      "not json",
      "{}",
      42,
      { trace: "x" },
      { trace: { traceparent: 5 } },
      { trace: { traceparent: "00-bad" } },
    ];
    for (const input of inputs) {
      const read = contextFromWebSocketEvent(input);
      expect(read.isRemote).to.equal(false);
      expect(read.traceId).to.match(/^[0-9a-f]{32}$/);
    }
  });
});
