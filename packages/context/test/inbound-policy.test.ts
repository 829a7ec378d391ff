/**
 * The trust boundary for inbound context, on a real node:http server and a real WebSocket
 * server, with the three attacks of issue 11 as regression tests: identity spoofing through
 * baggage, `-00` audit evasion, and kilobytes of caller baggage copied into every record.
 */
import { expect } from "chai";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { ConfigError } from "@tracehouse/schemas";
import {
  contextFromHttpRequest,
  createHttpMiddleware,
  currentContext,
  InboundTrust,
  readWebSocketEvents,
  resolveInboundPolicy,
  stampWebSocketEvent,
  TraceContext,
  type InboundPolicy,
} from "../src/index.js";

/** What the server saw: the handler's context and the headers it would put on a Kafka record. */
interface Seen {
  traceId: string;
  parentSpanId: string | null;
  sampled: boolean;
  traceFlags: number;
  userId: string | null;
  threadId: string | null;
  correlationId: string | null;
  baggageKeys: string[];
  /** The `baggage` header of the records the request's work would emit ("" for none). */
  recordBaggage: string;
  tracestate: string;
}

function seen(context: TraceContext | undefined): Seen {
  if (context === undefined) throw new Error("no active context in the handler");
  return {
    traceId: context.traceId,
    parentSpanId: context.parentSpanId ?? null,
    sampled: context.sampled,
    traceFlags: context.traceFlags,
    userId: context.userId ?? null,
    threadId: context.threadId ?? null,
    correlationId: context.correlationId ?? null,
    baggageKeys: [...context.baggage.keys()],
    recordBaggage: context.toHeaders().baggage ?? "",
    tracestate: context.toHeaders().tracestate ?? "",
  };
}

interface Server {
  readonly url: string;
  close(): Promise<void>;
}

async function listen(server: http.Server): Promise<string> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A node:http server behind the middleware with `inbound`, answering with what its handler saw. */
async function httpServer(inbound?: InboundPolicy): Promise<Server> {
  const traced = createHttpMiddleware(inbound === undefined ? {} : { inbound });
  const server = http.createServer((req, res) =>
    traced(req, res, () => {
      req.resume();
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(seen(currentContext())));
    }),
  );
  const address = await listen(server);
  return {
    url: `http://${address}/`,
    close: () => new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

async function get(url: string, headers: Record<string, string>): Promise<Seen> {
  const response = await fetch(url, { headers });
  expect(response.status).to.equal(200);
  return (await response.json()) as Seen;
}

const caller = TraceContext.create();
const spoofed = "th.user_id=admin,th.thread_id=victim,th.correlation_id=forged";
const notSampled = `00-${caller.traceId}-${caller.spanId}-00`;
/** About 8 KB of caller baggage: 60 members of 130 bytes. */
const bulky = Array.from({ length: 60 }, (_, i) => `k${String(i).padStart(2, "0")}=${"x".repeat(126)}`).join(
  ",",
);

describe("inbound policy on a real node:http server", () => {
  describe("the default: a public edge", () => {
    let server: Server;
    before(async () => (server = await httpServer()));
    after(() => server.close());

    it("ignores identity baggage: a caller cannot choose the user or thread it is stored under", async () => {
      const got = await get(server.url, { traceparent: caller.traceparent, baggage: spoofed });
      expect(got.userId).to.equal(null);
      expect(got.threadId).to.equal(null);
      expect(got.correlationId).to.equal(null);
      expect(got.recordBaggage).to.equal("");
      // still the caller's trace, one span below it
      expect(got.traceId).to.equal(caller.traceId);
      expect(got.parentSpanId).to.equal(caller.spanId);
    });

    it("ignores the -00 flag: a caller cannot keep its own requests out of the record", async () => {
      const got = await get(server.url, { traceparent: notSampled });
      expect(got.sampled).to.equal(true);
      expect(got.traceId).to.equal(caller.traceId);
      // the Level 2 random flag of the caller is kept
      const random = await get(server.url, { traceparent: `00-${caller.traceId}-${caller.spanId}-02` });
      expect(random.traceFlags).to.equal(3);
    });

    it("passes on none of 8 KB of caller baggage", async () => {
      expect(bulky.length).to.be.above(7800);
      const got = await get(server.url, { traceparent: caller.traceparent, baggage: bulky });
      expect(got.baggageKeys).to.deep.equal([]);
      expect(got.recordBaggage).to.equal("");
    });

    it("keeps the caller's tracestate, which carries no identity", async () => {
      const got = await get(server.url, { traceparent: caller.traceparent, tracestate: "congo=t61rcWkgMzE" });
      expect(got.tracestate).to.equal("congo=t61rcWkgMzE");
    });
  });

  describe("an internal service (InboundTrust.internal)", () => {
    let server: Server;
    before(async () => (server = await httpServer(InboundTrust.internal)));
    after(() => server.close());

    it("takes identity, sampled flag and baggage from its callers", async () => {
      const got = await get(server.url, { traceparent: notSampled, baggage: `${spoofed},tenant=acme` });
      expect([got.userId, got.threadId, got.correlationId]).to.deep.equal(["admin", "victim", "forged"]);
      expect(got.sampled).to.equal(false);
      expect(got.baggageKeys).to.deep.equal(["tenant"]);
    });
  });

  describe("each option alone", () => {
    const servers: Server[] = [];
    const start = async (inbound: InboundPolicy): Promise<string> => {
      const server = await httpServer(inbound);
      servers.push(server);
      return server.url;
    };
    after(() => Promise.all(servers.map((server) => server.close())));

    it("trustIdentity takes the identity fields and nothing else", async () => {
      const url = await start({ trustIdentity: true });
      const got = await get(url, { traceparent: notSampled, baggage: `${spoofed},tenant=acme` });
      expect([got.userId, got.threadId, got.correlationId]).to.deep.equal(["admin", "victim", "forged"]);
      expect(got.sampled).to.equal(true);
      expect(got.baggageKeys).to.deep.equal([]);
      expect(got.recordBaggage).to.equal("th.correlation_id=forged,th.user_id=admin,th.thread_id=victim");
    });

    it("honourSampled keeps the caller's -00", async () => {
      const url = await start({ honourSampled: true });
      const got = await get(url, { traceparent: notSampled, baggage: spoofed });
      expect(got.sampled).to.equal(false);
      expect(got.userId).to.equal(null);
    });

    it("allowedBaggageKeys passes on only the listed keys", async () => {
      const url = await start({ allowedBaggageKeys: ["tenant", "th.user_id"] });
      const got = await get(url, {
        traceparent: caller.traceparent,
        baggage: `${spoofed},secret=1,tenant=acme`,
      });
      // an identity key in the allow-list is still governed by trustIdentity
      expect(got.userId).to.equal(null);
      expect(got.baggageKeys).to.deep.equal(["tenant"]);
      expect(got.recordBaggage).to.equal("tenant=acme");
    });

    it("maxBaggageBytes keeps whole members, in order, within the budget", async () => {
      const url = await start({ allowedBaggageKeys: "all", maxBaggageBytes: 300 });
      const got = await get(url, { traceparent: caller.traceparent, baggage: `small=1,${bulky},tail=2` });
      expect(got.baggageKeys).to.deep.equal(["small", "k00", "k01", "tail"]);
      expect(Buffer.byteLength(got.recordBaggage)).to.be.at.most(300);
    });

    it("the budget counts trusted identity entries too", async () => {
      const url = await start({ trustIdentity: true, maxBaggageBytes: 20 });
      const got = await get(url, {
        traceparent: caller.traceparent,
        baggage: `th.user_id=${"u".repeat(64)}`,
      });
      expect(got.userId).to.equal(null);
      expect(got.recordBaggage).to.equal("");
    });
  });

  it("contextFromHttpRequest applies the same policy", async () => {
    const headers = { traceparent: notSampled, baggage: spoofed };
    const edge = contextFromHttpRequest({ headers });
    expect([edge.userId, edge.sampled, edge.parentSpanId]).to.deep.equal([undefined, true, caller.spanId]);
    const internal = contextFromHttpRequest({ headers }, { newSpan: false, inbound: InboundTrust.internal });
    expect([internal.userId, internal.sampled, internal.spanId]).to.deep.equal([
      "admin",
      false,
      caller.spanId,
    ]);
  });

  it("rejects an invalid policy with a ConfigError when the middleware is made", () => {
    const invalid: InboundPolicy[] = [
      { maxBaggageBytes: -1 },
      { maxBaggageBytes: 8193 },
      { maxBaggageBytes: 1.5 },
      { allowedBaggageKeys: ["bad key"] },
      { allowedBaggageKeys: "some" as unknown as "all" },
    ];
    for (const inbound of invalid) {
      expect(() => createHttpMiddleware({ inbound }), JSON.stringify(inbound)).to.throw(ConfigError);
      expect(() => resolveInboundPolicy(inbound)).to.throw(ConfigError);
    }
  });
});

describe("inbound policy on a real WebSocket server", () => {
  /** A WebSocket server that reads each event with `read` and sends back what it saw. */
  async function wsServer(read: (payload: unknown) => TraceContext): Promise<Server> {
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    wss.on("connection", (socket) => {
      socket.on("message", (data) => socket.send(JSON.stringify(seen(read(String(data))))));
    });
    const address = await listen(server);
    return {
      url: `ws://${address}/`,
      close: async () => {
        for (const client of wss.clients) client.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
      },
    };
  }

  async function send(url: string, event: object): Promise<Seen> {
    const socket = new WebSocket(url);
    try {
      await once(socket, "open");
      socket.send(JSON.stringify(event));
      const [data] = (await once(socket, "message")) as [Buffer];
      return JSON.parse(String(data)) as Seen;
    } finally {
      socket.close();
    }
  }

  const hostile = {
    type: "chat",
    trace: { traceparent: notSampled, baggage: `${spoofed},${bulky}`, tracestate: "congo=1" },
  };

  it("by default ignores the sender's identity, -00 and baggage", async () => {
    const server = await wsServer(readWebSocketEvents());
    try {
      const got = await send(server.url, hostile);
      expect(got.traceId).to.equal(caller.traceId);
      expect([got.userId, got.threadId, got.correlationId]).to.deep.equal([null, null, null]);
      expect(got.sampled).to.equal(true);
      expect(got.recordBaggage).to.equal("");
      expect(got.tracestate).to.equal("congo=1");
    } finally {
      await server.close();
    }
  });

  it("with InboundTrust.internal takes a trusted sender's context as stamped", async () => {
    const server = await wsServer(readWebSocketEvents(InboundTrust.internal));
    try {
      const sender = TraceContext.create({ sampled: false, userId: "u-1", baggage: { tenant: "acme" } });
      const got = await send(server.url, stampWebSocketEvent({ type: "chat" }, sender));
      expect([got.traceId, got.userId, got.sampled]).to.deep.equal([sender.traceId, "u-1", false]);
      expect(got.baggageKeys).to.deep.equal(["tenant"]);
    } finally {
      await server.close();
    }
  });

  it("with a byte budget keeps only what fits", async () => {
    const server = await wsServer(readWebSocketEvents({ allowedBaggageKeys: "all", maxBaggageBytes: 200 }));
    try {
      const got = await send(server.url, hostile);
      expect(got.baggageKeys).to.deep.equal(["k00"]);
      expect(got.userId).to.equal(null);
    } finally {
      await server.close();
    }
  });
});
