import net from "node:net";
import { gzipSync } from "node:zlib";
import * as grpc from "@grpc/grpc-js";
import { expect } from "chai";
import { decodeExportResponse, encodeExportRequest } from "../src/index.js";
import type { Receiver } from "../src/index.js";
import { decodeStatus } from "../src/internal/rpc-status.js";
import { ofType, topicFixture } from "./helpers/kafka.js";
import type { TopicFixture } from "./helpers/kafka.js";

const hex = (text: string): Buffer => Buffer.from(text, "hex");
const NOW_NS = BigInt(Date.now()) * 1_000_000n;

function span(traceId: string, spanId: string, name = "work"): Record<string, unknown> {
  return {
    traceId: hex(traceId),
    spanId: hex(spanId),
    name,
    kind: 1,
    startTimeUnixNano: (NOW_NS - 5_000_000n).toString(),
    endTimeUnixNano: NOW_NS.toString(),
    attributes: [{ key: "k", value: { stringValue: "v" } }],
  };
}

function request(spans: Record<string, unknown>[]): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "hostile" } }] },
        scopeSpans: [{ scope: { name: "s" }, spans }],
      },
    ],
  };
}

function post(receiver: Receiver, body: Buffer | string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${receiver.addresses().http}/v1/traces`, { method: "POST", body, headers });
}

const PROTO = { "content-type": "application/x-protobuf" };

describe("hostile and unlucky clients", function () {
  let fixture: TopicFixture;
  let receiver: Receiver;

  before(async function () {
    fixture = await topicFixture();
    receiver = await fixture.receiver({
      maxRequestBytes: 64 * 1024,
      maxSpansPerRequest: 100,
      requestTimeoutMs: 500,
    });
  });

  after(async () => fixture.cleanup());

  it("answers garbage protobuf with 400 and a google.rpc.Status reason", async function () {
    const response = await post(receiver, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), PROTO);
    expect(response.status).to.equal(400);
    const status = decodeStatus(new Uint8Array(await response.arrayBuffer()));
    expect(status.message).to.match(/cannot decode the protobuf ExportTraceServiceRequest/);
  });

  it("answers bad JSON, a wrong shape and a wrong content type with 400/415", async function () {
    const bad = await post(receiver, "{not json", { "content-type": "application/json" });
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { message: string }).message).to.match(/cannot decode the json/);
    const shape = await post(receiver, JSON.stringify({ resourceSpans: "nope" }), {
      "content-type": "application/json",
    });
    expect(shape.status).to.equal(400);
    expect(((await shape.json()) as { message: string }).message).to.match(/resourceSpans must be an array/);
    expect((await post(receiver, "x", { "content-type": "text/plain" })).status).to.equal(415);
    expect((await post(receiver, "x", { ...PROTO, "content-encoding": "br" })).status).to.equal(415);
    expect((await fetch(`${receiver.addresses().http}/v1/traces`)).status).to.equal(405);
    expect((await fetch(`${receiver.addresses().http}/v1/metrics`, { method: "POST" })).status).to.equal(404);
  });

  it("refuses bodies over the limit, on the wire and once gunzipped (a gzip bomb), and broken gzip", async function () {
    expect((await post(receiver, Buffer.alloc(100 * 1024), PROTO)).status).to.equal(413);
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
    expect(bomb.length).to.be.below(64 * 1024);
    expect((await post(receiver, bomb, { ...PROTO, "content-encoding": "gzip" })).status).to.equal(413);
    expect(
      (await post(receiver, Buffer.from("not gzip"), { ...PROTO, "content-encoding": "gzip" })).status,
    ).to.equal(400);
  });

  it("refuses more spans than allowed in one request", async function () {
    const spans = Array.from({ length: 101 }, (_, i) =>
      span("a".repeat(32), (i + 1).toString(16).padStart(16, "0")),
    );
    const response = await post(receiver, encodeExportRequest(request(spans)), PROTO);
    expect(response.status).to.equal(400);
  });

  it("survives values nested deeper than any stack and keeps serving", async function () {
    const depth = 1000;
    const value =
      '{"kvlistValue":{"values":[{"key":"k","value":'.repeat(depth) +
      '{"stringValue":"leaf"}' +
      "}]}}".repeat(depth);
    const deep = JSON.stringify(
      request([{ ...span("b".repeat(32), "1".repeat(16)), attributes: [{ key: "deep", value: "DEEP" }] }]),
    );
    const response = await post(receiver, deep.replace('"DEEP"', value), {
      "content-type": "application/json",
    });
    expect(response.status).to.equal(200);
    const ok = await post(
      receiver,
      encodeExportRequest(request([span("c".repeat(32), "2".repeat(16))])),
      PROTO,
    );
    expect(ok.status).to.equal(200);
  });

  it("cuts off a client that stalls mid-body (slowloris) and keeps serving others", async function () {
    const started = Date.now();
    const closed = await new Promise<number>((resolve, reject) => {
      const url = new URL(receiver.addresses().http as string);
      const socket = net.connect(Number(url.port), url.hostname, () => {
        socket.write(
          "POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ncontent-length: 1000\r\n\r\nabc",
        );
      });
      socket.on("error", reject);
      socket.on("data", () => undefined);
      socket.on("close", () => resolve(Date.now() - started));
    });
    expect(closed).to.be.below(5000);
    const ok = await post(
      receiver,
      encodeExportRequest(request([span("d".repeat(32), "3".repeat(16))])),
      PROTO,
    );
    expect(ok.status).to.equal(200);
  });

  it("rejects spans with bad ids in partial_success and writes the rest; a retried batch has the same event ids", async function () {
    const traceId = "e".repeat(31) + "1";
    const good = span(traceId, "4".repeat(16), "good");
    const body = encodeExportRequest(
      request([good, { ...span(traceId, "5".repeat(16)), traceId: hex("abcd") }]),
    );
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await post(receiver, body, PROTO);
      expect(response.status).to.equal(200);
      const decoded = decodeExportResponse(new Uint8Array(await response.arrayBuffer()));
      expect(Number(decoded.partialSuccess?.rejectedSpans)).to.equal(1);
      expect(decoded.partialSuccess?.errorMessage).to.match(/traceId must be 16 bytes/);
    }
    const json = await post(
      receiver,
      JSON.stringify(request([{ ...good, traceId, spanId: "4".repeat(16), name: "good" }])),
      {
        "content-type": "application/json",
      },
    );
    expect(await json.json()).to.deep.equal({});
    const spans = ofType(await fixture.consume(100, 5000), "span").filter((s) => s["trace_id"] === traceId);
    expect(spans).to.have.length(3);
    expect(new Set(spans.map((s) => s["event_id"])).size).to.equal(1);
  });

  it("answers 429 with Retry-After when more requests arrive than it processes at once", async function () {
    const busy = await fixture.receiver({ maxConcurrentRequests: 1, retryAfterSeconds: 7 });
    const url = new URL(busy.addresses().http as string);
    const socket = net.connect(Number(url.port), url.hostname);
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(
      "POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ncontent-length: 10\r\n\r\na",
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    // the stalled request is being read, not yet processing: admission counts requests being processed
    const bodies = Array.from({ length: 8 }, (_, i) =>
      encodeExportRequest(
        request(
          Array.from({ length: 50 }, (_, j) =>
            span("f".repeat(31) + String(i), (j + 1).toString(16).padStart(16, "0")),
          ),
        ),
      ),
    );
    const responses = await Promise.all(bodies.map((body) => post(busy, body, PROTO)));
    socket.destroy();
    const refused = responses.filter((r) => r.status === 429);
    expect(refused.length).to.be.greaterThan(0);
    expect(refused[0]?.headers.get("retry-after")).to.equal("7");
    expect(responses.every((r) => r.status === 200 || r.status === 429)).to.equal(true);
  });

  it("answers 503 with Retry-After (HTTP) and UNAVAILABLE with RetryInfo (gRPC) while Kafka is unreachable", async function () {
    const { createReceiver } = await import("../src/index.js");
    const dead = createReceiver({
      brokers: ["127.0.0.1:19790"],
      httpPort: 0,
      grpcPort: 0,
      ackTimeoutMs: 500,
      retryAfterSeconds: 3,
      producerOptions: { spool: false, connectionTimeoutMs: 200, sendRetries: 1, retryBackoffMs: 50 },
    });
    await dead.start();
    try {
      const body = encodeExportRequest(request([span("9".repeat(32), "6".repeat(16))]));
      const first = await post(dead, body, PROTO);
      expect(first.status).to.equal(503);
      expect(first.headers.get("retry-after")).to.equal("3");
      const client = new grpc.Client(dead.addresses().grpc as string, grpc.credentials.createInsecure());
      const error = await new Promise<grpc.ServiceError>((resolve) => {
        client.makeUnaryRequest(
          "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
          (b: Buffer) => b,
          (b: Buffer) => b,
          body,
          (err) => resolve(err as grpc.ServiceError),
        );
      });
      client.close();
      expect(error.code).to.equal(grpc.status.UNAVAILABLE);
      const details = error.metadata.get("grpc-status-details-bin")[0] as Buffer;
      expect(details.toString("latin1")).to.contain("google.rpc.RetryInfo");
    } finally {
      await dead.stop({ timeoutMs: 1000 });
    }
  });

  it("rejects a span whose record is larger than the producer takes, in partial_success", async function () {
    const big = await fixture.receiver({ maxRequestBytes: 4 * 1024 * 1024 });
    const traceId = "7".repeat(32);
    const huge = {
      ...span(traceId, "8".repeat(16)),
      attributes: [{ key: "blob", value: { stringValue: "x".repeat(1_500_000) } }],
    };
    const response = await post(
      big,
      encodeExportRequest(request([huge, span(traceId, "9".repeat(16))])),
      PROTO,
    );
    expect(response.status).to.equal(200);
    const decoded = decodeExportResponse(new Uint8Array(await response.arrayBuffer()));
    expect(Number(decoded.partialSuccess?.rejectedSpans)).to.equal(1);
    expect(decoded.partialSuccess?.errorMessage).to.match(/maxRecordBytes/);
  });

  it("answers an oversize gRPC message with RESOURCE_EXHAUSTED", async function () {
    const client = new grpc.Client(receiver.addresses().grpc as string, grpc.credentials.createInsecure());
    const error = await new Promise<grpc.ServiceError>((resolve) => {
      client.makeUnaryRequest(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(100 * 1024),
        (err) => resolve(err as grpc.ServiceError),
      );
    });
    client.close();
    expect(error.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
  });

  it("answers garbage over gRPC with INVALID_ARGUMENT", async function () {
    const client = new grpc.Client(receiver.addresses().grpc as string, grpc.credentials.createInsecure());
    const error = await new Promise<grpc.ServiceError>((resolve) => {
      client.makeUnaryRequest(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
        (err) => resolve(err as grpc.ServiceError),
      );
    });
    client.close();
    expect(error.code).to.equal(grpc.status.INVALID_ARGUMENT);
  });
});
