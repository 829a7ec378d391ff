import { expect } from "chai";
import type { IncomingHttpHeaders } from "node:http";
import { ConfigError } from "@tracehouse/schemas";
import { ContextBaggageKey, TraceContext, TraceFlag, parseTraceparent } from "../src/index.js";

const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const SPAN_ID = "b7ad6b7169203331";
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;

describe("TraceContext.create", () => {
  it("starts a trace with random, valid, distinct ids", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const context = TraceContext.create();
      expect(context.traceId).to.match(/^[0-9a-f]{32}$/);
      expect(context.spanId).to.match(/^[0-9a-f]{16}$/);
      expect(context.traceId).to.not.equal("0".repeat(32));
      expect(context.spanId).to.not.equal("0".repeat(16));
      seen.add(context.traceId);
      seen.add(context.spanId);
    }
    expect(seen.size).to.equal(4000);
  });

  it("defaults to sampled, with the random trace id flag", () => {
    const context = TraceContext.create();
    expect(context.sampled).to.equal(true);
    expect(context.traceFlags).to.equal(TraceFlag.Sampled | TraceFlag.Random);
    expect(context.isRemote).to.equal(false);
    expect(context.spanStack).to.deep.equal([]);
    expect(context.parentSpanId).to.equal(undefined);
    expect(TraceContext.create({ sampled: false }).traceparent).to.match(/-02$/);
  });

  it("holds identity fields, baggage and tracestate", () => {
    const context = TraceContext.create({
      correlationId: "req-1",
      userId: "alice",
      threadId: "thread 7",
      baggage: { tenant: "acme", region: { value: "eu west", metadata: "ttl=60" } },
      tracestate: ["congo=t61rcWkgMzE"],
    });
    expect(context.correlationId).to.equal("req-1");
    expect(context.userId).to.equal("alice");
    expect(context.threadId).to.equal("thread 7");
    expect([...context.baggage]).to.deep.equal([
      ["tenant", { value: "acme" }],
      ["region", { value: "eu west", metadata: "ttl=60" }],
    ]);
    expect(context.tracestate).to.deep.equal(["congo=t61rcWkgMzE"]);
  });

  it("takes identity fields from well-known baggage keys unless given explicitly", () => {
    const context = TraceContext.create({
      userId: "explicit",
      baggage: { [ContextBaggageKey.UserId]: "from-baggage", [ContextBaggageKey.ThreadId]: "t1", other: "x" },
    });
    expect(context.userId).to.equal("explicit");
    expect(context.threadId).to.equal("t1");
    expect([...context.baggage.keys()]).to.deep.equal(["other"]);
  });

  it("throws ConfigError for baggage or tracestate the headers could not carry", () => {
    expect(() => TraceContext.create({ baggage: { "bad key": "x" } })).to.throw(ConfigError);
    expect(() => TraceContext.create({ baggage: { k: { value: "v", metadata: "bad prop=1" } } })).to.throw(
      ConfigError,
    );
    expect(() => TraceContext.create({ tracestate: ["Upper=1"] })).to.throw(ConfigError);
    expect(() => TraceContext.create({ tracestate: ["a=1", "a=2"] })).to.throw(ConfigError);
  });
});

describe("TraceContext.child", () => {
  it("keeps the trace, pushes the current span and draws a new one", () => {
    const root = TraceContext.create({ userId: "u" });
    const child = root.child();
    const grandchild = child.child();
    expect(child.traceId).to.equal(root.traceId);
    expect(child.spanId).to.not.equal(root.spanId);
    expect(child.parentSpanId).to.equal(root.spanId);
    expect(grandchild.spanStack).to.deep.equal([root.spanId, child.spanId]);
    expect(grandchild.parentSpanId).to.equal(child.spanId);
    expect(grandchild.userId).to.equal("u");
    expect(root.spanStack).to.deep.equal([]);
  });

  it("can change the sampling decision, which the spec only allows with a new span", () => {
    const root = TraceContext.create();
    expect(root.child({ sampled: false }).sampled).to.equal(false);
    expect(root.child({ sampled: false }).child().sampled).to.equal(false);
    expect(root.child({ sampled: false }).child({ sampled: true }).traceFlags).to.equal(3);
  });

  it("is immutable", () => {
    const context = TraceContext.create().child();
    expect(Object.isFrozen(context.spanStack)).to.equal(true);
    expect(Object.isFrozen(context.toHeaders())).to.equal(true);
    expect(() => (context.spanStack as string[]).push("x")).to.throw(TypeError);
  });
});

describe("TraceContext.with", () => {
  it("copies with new identity fields, same span", () => {
    const context = TraceContext.create({ userId: "a", threadId: "t" }).child();
    const changed = context.with({ userId: "b", correlationId: "c" });
    expect(changed.userId).to.equal("b");
    expect(changed.correlationId).to.equal("c");
    expect(changed.threadId).to.equal("t");
    expect(changed.spanId).to.equal(context.spanId);
    expect(changed.spanStack).to.equal(context.spanStack);
    expect(context.userId).to.equal("a");
  });

  it("clears identity fields with null and replaces baggage and tracestate", () => {
    const context = TraceContext.create({ userId: "a", baggage: { x: "1" } });
    const changed = context.with({ userId: null, baggage: { y: "2" }, tracestate: ["rojo=1"] });
    expect(changed.userId).to.equal(undefined);
    expect([...changed.baggage.keys()]).to.deep.equal(["y"]);
    expect(changed.tracestate).to.deep.equal(["rojo=1"]);
    expect(changed.toHeaders().baggage).to.equal("y=2");
  });

  it("throws ConfigError on invalid baggage", () => {
    expect(() => TraceContext.create().with({ baggage: { "a,b": "1" } })).to.throw(ConfigError);
  });
});

describe("TraceContext.toHeaders", () => {
  it("writes traceparent, and tracestate and baggage only when present", () => {
    const bare = TraceContext.create();
    expect(bare.toHeaders()).to.deep.equal({ traceparent: `00-${bare.traceId}-${bare.spanId}-03` });
    const full = TraceContext.create({
      userId: "alice smith",
      baggage: { k: "v" },
      tracestate: ["a=1", "b=2"],
    });
    expect(full.toHeaders()).to.deep.equal({
      traceparent: full.traceparent,
      tracestate: "a=1,b=2",
      baggage: "th.user_id=alice%20smith,k=v",
    });
  });

  it("puts the identity fields first in baggage so the limits never drop them", () => {
    const baggage = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`k${i}`, "v"]));
    const context = TraceContext.create({ baggage, correlationId: "c", userId: "u", threadId: "t" });
    const header = context.toHeaders().baggage ?? "";
    expect(header.startsWith("th.correlation_id=c,th.user_id=u,th.thread_id=t,k0=v")).to.equal(true);
    expect(header.split(",")).to.have.length(64);
    expect(TraceContext.fromHeaders({ baggage: header }).userId).to.equal("u");
  });

  it("returns the same headers object for the same context", () => {
    const context = TraceContext.create();
    expect(context.toHeaders()).to.equal(context.toHeaders());
  });
});

describe("TraceContext.fromHeaders", () => {
  it("continues the incoming trace; its child has the incoming span as parent", () => {
    const context = TraceContext.fromHeaders({ traceparent: TRACEPARENT, tracestate: "congo=t61rcWkgMzE" });
    expect(context.traceId).to.equal(TRACE_ID);
    expect(context.spanId).to.equal(SPAN_ID);
    expect(context.isRemote).to.equal(true);
    expect(context.sampled).to.equal(true);
    expect(context.tracestate).to.deep.equal(["congo=t61rcWkgMzE"]);
    const child = context.child();
    expect(child.traceId).to.equal(TRACE_ID);
    expect(child.parentSpanId).to.equal(SPAN_ID);
    expect(child.isRemote).to.equal(false);
    expect(parseTraceparent(child.traceparent)?.spanId).to.equal(child.spanId);
    expect(child.toHeaders().tracestate).to.equal("congo=t61rcWkgMzE");
  });

  it("reads identity fields and baggage", () => {
    const context = TraceContext.fromHeaders({
      traceparent: TRACEPARENT,
      baggage: "th.user_id=alice,th.thread_id=t%201,th.correlation_id=c-9,tenant=acme;p",
    });
    expect(context.userId).to.equal("alice");
    expect(context.threadId).to.equal("t 1");
    expect(context.correlationId).to.equal("c-9");
    expect([...context.baggage]).to.deep.equal([["tenant", { value: "acme", metadata: "p" }]]);
  });

  it("reads header names in any case", () => {
    const context = TraceContext.fromHeaders({ TraceParent: TRACEPARENT, TRACESTATE: "a=1", BagGage: "k=v" });
    expect(context.traceId).to.equal(TRACE_ID);
    expect(context.tracestate).to.deep.equal(["a=1"]);
    expect(context.baggage.get("k")?.value).to.equal("v");
  });

  it("reads Buffer values, as Kafka headers carry them", () => {
    const context = TraceContext.fromHeaders({
      traceparent: Buffer.from(TRACEPARENT),
      tracestate: [Buffer.from("a=1"), "b=2"],
      baggage: new Uint8Array(Buffer.from("th.user_id=bob")),
    });
    expect(context.traceId).to.equal(TRACE_ID);
    expect(context.tracestate).to.deep.equal(["a=1", "b=2"]);
    expect(context.userId).to.equal("bob");
  });

  it("reads node:http IncomingHttpHeaders, with repeated headers as arrays", () => {
    const headers: IncomingHttpHeaders = { host: "x", traceparent: TRACEPARENT, tracestate: "a=1, b=2" };
    (headers as Record<string, string[] | string>).baggage = ["k1=1", "k2=2"];
    const context = TraceContext.fromHeaders(headers);
    expect(context.spanId).to.equal(SPAN_ID);
    expect(context.tracestate).to.deep.equal(["a=1", "b=2"]);
    expect([...context.baggage.keys()]).to.deep.equal(["k1", "k2"]);
  });

  it("reads fetch Headers and Maps", () => {
    const fromFetch = TraceContext.fromHeaders(
      new Headers({ TraceParent: TRACEPARENT, baggage: "th.user_id=f" }),
    );
    expect(fromFetch.spanId).to.equal(SPAN_ID);
    expect(fromFetch.userId).to.equal("f");
    const fromMap = TraceContext.fromHeaders(new Map([["Traceparent", Buffer.from(TRACEPARENT)]]) as never);
    expect(fromMap.spanId).to.equal(SPAN_ID);
  });

  it("starts a new trace on a missing, invalid or repeated traceparent, keeping baggage but not tracestate", () => {
    const cases = [
      {},
      { traceparent: "garbage", tracestate: "a=1", baggage: "th.user_id=u" },
      { traceparent: [TRACEPARENT, TRACEPARENT], tracestate: "a=1", baggage: "th.user_id=u" },
      { traceparent: TRACEPARENT, TraceParent: TRACEPARENT, baggage: "th.user_id=u" },
      { traceparent: `00-${"0".repeat(32)}-${SPAN_ID}-01`, baggage: "th.user_id=u" },
    ];
    for (const headers of cases) {
      const context = TraceContext.fromHeaders(headers);
      expect(context.traceId).to.not.equal(TRACE_ID);
      expect(context.traceId).to.match(/^[0-9a-f]{32}$/);
      expect(context.isRemote).to.equal(false);
      expect(context.tracestate).to.deep.equal([]);
      if ("baggage" in headers) expect(context.userId).to.equal("u");
    }
  });

  it("keeps the trace when only tracestate is invalid", () => {
    const context = TraceContext.fromHeaders({ traceparent: TRACEPARENT, tracestate: "FOO=1,bar=2" });
    expect(context.traceId).to.equal(TRACE_ID);
    expect(context.tracestate).to.deep.equal([]);
  });

  it("never throws, whatever it is given", () => {
    const hostile = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error("boom");
        },
      },
    );
    const inputs: unknown[] = [
      undefined,
      null,
      42,
      "traceparent",
      [],
      hostile,
      { traceparent: 42 },
      { traceparent: {} },
    ];
    for (const input of inputs) {
      const context = TraceContext.fromHeaders(input as never);
      expect(context.traceId).to.match(/^[0-9a-f]{32}$/);
    }
  });

  it("gives the same answer for repeated and for many distinct incoming headers", () => {
    const headersFor = (i: number): Record<string, string> => ({
      traceparent: TraceContext.create().traceparent,
      tracestate: `v${i}=1`,
      baggage: `th.user_id=u${i},k=${i}`,
    });
    const first = headersFor(0);
    const a = TraceContext.fromHeaders(first);
    for (let i = 1; i < 1500; i++) {
      const headers = headersFor(i);
      const context = TraceContext.fromHeaders(headers);
      expect(context.userId).to.equal(`u${i}`);
      expect(context.tracestate).to.deep.equal([`v${i}=1`]);
    }
    const b = TraceContext.fromHeaders(first);
    const c = TraceContext.fromHeaders({ ...first, traceparent: TraceContext.create().traceparent });
    expect(b.toJSON()).to.deep.equal(a.toJSON());
    expect(c.traceId).to.not.equal(a.traceId);
    expect(c.userId).to.equal("u0");
    expect(c.baggage).to.deep.equal(a.baggage);
  });

  it("round-trips a context through its headers", () => {
    const original = TraceContext.create({
      correlationId: "c,1",
      userId: "ü",
      threadId: "t;2",
      baggage: { a: { value: "%", metadata: "p=1;q" } },
      tracestate: ["x@y=1"],
      sampled: false,
    }).child();
    const copy = TraceContext.fromHeaders(original.toHeaders());
    expect({ ...copy.toJSON(), isRemote: false, spanStack: [], parentSpanId: null }).to.deep.equal({
      ...original.toJSON(),
      spanStack: [],
      parentSpanId: null,
    });
  });
});
