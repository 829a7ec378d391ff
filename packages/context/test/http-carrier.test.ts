import { expect } from "chai";
import { once } from "node:events";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  AsyncContextManager,
  bindEmitter,
  createHttpMiddleware,
  currentContext,
  InboundTrust,
  injectHttpHeaders,
  TraceContext,
  type HttpRequestLike,
} from "../src/index.js";

interface Observed {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  isRemote: boolean;
  userId: string | null;
  tenant: string | null;
  afterAwait: string | null;
  afterImmediate: string | null;
  inEndListener: string | null;
}

async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

function request(url: string, headers: Record<string, string | string[]>, body = ""): Promise<Observed> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve(JSON.parse(text) as Observed));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("HTTP middleware on a real node:http server", () => {
  // a service called by its own services: the caller's identity, flags and baggage are taken
  const traced = createHttpMiddleware({ inbound: InboundTrust.internal });
  let server: { url: string; close: () => Promise<void> };

  before(async () => {
    server = await startServer((req, res) =>
      traced(req, res, async () => {
        const context = currentContext();
        // 'end' is emitted from the socket's callbacks, outside the handler: bound, it sees the context
        const inEndListener = new Promise<string | null>((resolve) => {
          bindEmitter(req).on("end", () => resolve(currentContext()?.spanId ?? null));
        });
        req.resume();
        await once(req, "end");
        await new Promise((resolve) => setTimeout(resolve, 2));
        const afterAwait = currentContext()?.spanId ?? null;
        const afterImmediate = await new Promise<string | null>((resolve) => {
          setImmediate(() => resolve(currentContext()?.spanId ?? null));
        });
        const observed: Observed = {
          traceId: context?.traceId ?? "",
          spanId: context?.spanId ?? "",
          parentSpanId: context?.parentSpanId ?? null,
          isRemote: context?.isRemote ?? true,
          userId: context?.userId ?? null,
          tenant: context?.baggage.get("tenant")?.value ?? null,
          afterAwait,
          afterImmediate,
          inEndListener: await inEndListener,
        };
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(observed));
      }),
    );
  });

  after(() => server.close());

  it("runs the handler in a child of the caller's span, with its baggage", async () => {
    const caller = TraceContext.create({ userId: "alice", baggage: { tenant: "acme corp" } }).child();
    const observed = await request(
      server.url,
      injectHttpHeaders(caller, {}) as Record<string, string>,
      "hello",
    );
    expect(observed.traceId).to.equal(caller.traceId);
    expect(observed.parentSpanId).to.equal(caller.spanId);
    expect(observed.spanId).to.not.equal(caller.spanId);
    expect(observed.isRemote).to.equal(false);
    expect(observed.userId).to.equal("alice");
    expect(observed.tenant).to.equal("acme corp");
    expect(observed.afterAwait).to.equal(observed.spanId);
    expect(observed.afterImmediate).to.equal(observed.spanId);
    expect(observed.inEndListener).to.equal(observed.spanId);
  });

  it("starts a new trace for a request without or with a bad traceparent", async () => {
    const without = await request(server.url, {});
    expect(without.traceId).to.match(/^[0-9a-f]{32}$/);
    expect(without.parentSpanId).to.equal(null);
    const bad = await request(server.url, { traceparent: "00-xyz", baggage: "th.user_id=bob" });
    expect(bad.traceId).to.match(/^[0-9a-f]{32}$/);
    expect(bad.parentSpanId).to.equal(null);
    expect(bad.userId).to.equal("bob");
  });

  it("merges repeated baggage headers sent by the client", async () => {
    const caller = TraceContext.create();
    const observed = await request(server.url, {
      traceparent: caller.traceparent,
      baggage: ["th.user_id=carol", "tenant=t1"],
    });
    expect(observed.userId).to.equal("carol");
    expect(observed.tenant).to.equal("t1");
    expect(observed.parentSpanId).to.equal(caller.spanId);
  });

  it("treats two traceparent headers as invalid and restarts the trace", async () => {
    const caller = TraceContext.create();
    const observed = await request(server.url, {
      traceparent: [caller.traceparent, caller.child().traceparent],
    });
    expect(observed.traceId).to.not.equal(caller.traceId);
  });
});

describe("createHttpMiddleware options", () => {
  it("can keep the caller's span and use another context manager", () => {
    const manager = new AsyncContextManager();
    const caller = TraceContext.create();
    const seen: TraceContext[] = [];
    const middleware = createHttpMiddleware({
      contextManager: manager,
      newSpan: false,
      onContext: (context) => seen.push(context),
    });
    const req: HttpRequestLike = { headers: { traceparent: caller.traceparent } };
    let active: TraceContext | undefined;
    middleware(req, {}, () => {
      active = manager.active();
    });
    expect(active?.spanId).to.equal(caller.spanId);
    expect(active?.isRemote).to.equal(true);
    expect(seen).to.deep.equal([active]);
    expect(currentContext()).to.equal(undefined);
  });

  it("runs Express-style next chains inside the context", () => {
    const middleware = createHttpMiddleware();
    const caller = TraceContext.create();
    const chain: (string | undefined)[] = [];
    middleware({ headers: { traceparent: caller.traceparent } }, {}, () => {
      chain.push(currentContext()?.parentSpanId);
      queueMicrotask(() => chain.push(currentContext()?.parentSpanId));
    });
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        expect(chain).to.deep.equal([caller.spanId, caller.spanId]);
        resolve();
      }),
    );
  });
});

describe("injectHttpHeaders", () => {
  const context = TraceContext.create({ userId: "u", tracestate: ["a=1"] });

  it("fills a plain record and replaces trace headers in another case", () => {
    const headers = injectHttpHeaders(context, { Accept: "x", TraceParent: "stale", BAGGAGE: "old=1" });
    expect(headers).to.deep.equal({
      Accept: "x",
      traceparent: context.traceparent,
      tracestate: "a=1",
      baggage: "th.user_id=u",
    });
  });

  it("fills fetch Headers", () => {
    const headers = injectHttpHeaders(context, new Headers({ tracestate: "old=1", baggage: "old=1" }));
    expect(headers.get("traceparent")).to.equal(context.traceparent);
    expect(headers.get("tracestate")).to.equal("a=1");
    const bare = injectHttpHeaders(
      TraceContext.create(),
      new Headers({ tracestate: "old=1", baggage: "old=1" }),
    );
    expect(bare.get("tracestate")).to.equal(null);
    expect(bare.get("baggage")).to.equal(null);
  });

  it("fills a node:http ClientRequest", async () => {
    let received: http.IncomingHttpHeaders = {};
    const server = await startServer((req, res) => {
      received = req.headers;
      res.end();
    });
    try {
      const req = http.request(server.url);
      injectHttpHeaders(context, req);
      const response = once(req, "response");
      req.end();
      const [res] = (await response) as [IncomingMessage];
      res.resume();
      await once(res, "end");
      expect(received.traceparent).to.equal(context.traceparent);
      expect(received.baggage).to.equal("th.user_id=u");
      expect(TraceContext.fromHeaders(received).spanId).to.equal(context.spanId);
    } finally {
      await server.close();
    }
  });

  it("works with fetch against a real server", async () => {
    let received: http.IncomingHttpHeaders = {};
    const server = await startServer((req, res) => {
      received = req.headers;
      res.end("ok");
    });
    try {
      const response = await fetch(server.url, { headers: injectHttpHeaders(context, new Headers()) });
      expect(await response.text()).to.equal("ok");
      expect(TraceContext.fromHeaders(received).toHeaders()).to.deep.equal(context.toHeaders());
    } finally {
      await server.close();
    }
  });
});
