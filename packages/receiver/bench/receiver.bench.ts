// Spans per second accepted and acknowledged by Kafka over OTLP/HTTP protobuf, batches of 512
// spans, several exporters at once; p99 of one export request. The last line is JSON.
import { randomBytes } from "node:crypto";
import { createTopicCatalogue } from "@tracehouse/schemas";
import { testKafka, uniqueName, useKafka } from "@tracehouse/testkit";
import { createReceiver, encodeExportRequest } from "../src/index.js";

const SPANS_PER_REQUEST = 512;
const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 600);
const CONCURRENCY = Number(process.env["BENCH_CONCURRENCY"] ?? 8);
const DISTINCT_BODIES = 64;

const { brokers } = await useKafka();
const kafka = await testKafka("receiver-bench");
const admin = kafka.admin();
await admin.connect();
const topics = createTopicCatalogue({ prefix: `${uniqueName("rbench")}.` });
const names = topics.all.map((t) => t.name);
await admin.createTopics({
  waitForLeaders: true,
  topics: names.map((topic) => ({ topic, numPartitions: 6, replicationFactor: 1 })),
});

/** A request of 512 spans: 16 traces of 32 spans (an HTTP server span, DB and HTTP client spans), typical attributes. */
function body(): Buffer {
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans: Record<string, unknown>[] = [];
  for (let t = 0; t < SPANS_PER_REQUEST / 32; t++) {
    const traceId = randomBytes(16);
    const rootId = randomBytes(8);
    for (let s = 0; s < 32; s++) {
      const spanId = s === 0 ? rootId : randomBytes(8);
      spans.push({
        traceId,
        spanId,
        parentSpanId: s === 0 ? undefined : rootId,
        name: s === 0 ? "GET /api/orders/{id}" : s % 2 === 0 ? "SELECT orders" : "GET",
        kind: s === 0 ? 2 : 3,
        startTimeUnixNano: String(now - BigInt(40_000_000 - s * 1_000_000)),
        endTimeUnixNano: String(now - BigInt(39_000_000 - s * 1_000_000)),
        attributes: [
          { key: "http.request.method", value: { stringValue: "GET" } },
          { key: "http.response.status_code", value: { intValue: 200 } },
          { key: "server.address", value: { stringValue: "orders.internal" } },
          { key: "db.system.name", value: { stringValue: "postgresql" } },
          { key: "db.query.text", value: { stringValue: "SELECT * FROM orders WHERE id = $1" } },
        ],
        status: { code: 0 },
      });
    }
  }
  return encodeExportRequest({
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: "service.name", value: { stringValue: "orders" } },
            { key: "telemetry.sdk.language", value: { stringValue: "go" } },
          ],
        },
        scopeSpans: [{ scope: { name: "otelhttp", version: "0.60.0" }, spans }],
      },
    ],
  });
}

const bodies = Array.from({ length: DISTINCT_BODIES }, body);
const receiver = createReceiver({
  brokers,
  httpPort: 0,
  grpcPort: null,
  maxConcurrentRequests: CONCURRENCY * 2,
  producers: Number(process.env["BENCH_PRODUCERS"] ?? 1),
  // the receiver's producer defaults unless BENCH_COMPRESSION / BENCH_BATCH_BYTES say otherwise
  producerOptions: {
    topics,
    spool: false,
    clientId: "receiver-bench",
    ...(process.env["BENCH_COMPRESSION"] ? { compression: process.env["BENCH_COMPRESSION"] as "gzip" } : {}),
    ...(process.env["BENCH_BATCH_BYTES"] ? { maxBatchBytes: Number(process.env["BENCH_BATCH_BYTES"]) } : {}),
  },
});
await receiver.start();
const url = `${receiver.addresses().http}/v1/traces`;

async function exportOnce(index: number): Promise<{ ms: number; status: number }> {
  const started = performance.now();
  const response = await fetch(url, {
    method: "POST",
    body: bodies[index % DISTINCT_BODIES],
    headers: { "content-type": "application/x-protobuf" },
  });
  await response.arrayBuffer();
  return { ms: performance.now() - started, status: response.status };
}

// warm-up: connections, JIT, topic metadata
await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => exportOnce(i)));

const latencies: number[] = [];
let accepted = 0;
let refused = 0;
let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < REQUESTS) {
      const index = next++;
      const { ms, status } = await exportOnce(index);
      latencies.push(ms);
      if (status === 200) accepted += SPANS_PER_REQUEST;
      else refused += 1;
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const quantile = (q: number): number =>
  latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
const stats = receiver.producers[0]!.stats();
const batches = receiver.producers.reduce((sum, producer) => sum + producer.stats().batchesSent, 0);
await receiver.stop();
await admin.deleteTopics({ topics: names });
await admin.disconnect();

const result = {
  spans_per_s: Math.round(accepted / seconds),
  p99_ms: Number(quantile(0.99).toFixed(1)),
  p50_ms: Number(quantile(0.5).toFixed(1)),
  requests: REQUESTS,
  spans_per_request: SPANS_PER_REQUEST,
  concurrency: CONCURRENCY,
  refused_requests: refused,
  kafka_batches: batches,
  producers: receiver.producers.length,
  kafka_send_p50_ms: Number(stats.sendLatency.p50Ms.toFixed(1)),
  kafka_send_p99_ms: Number(stats.sendLatency.p99Ms.toFixed(1)),
  seconds: Number(seconds.toFixed(2)),
};
console.log(`OTLP/HTTP protobuf, ${REQUESTS} requests of ${SPANS_PER_REQUEST} spans, ${CONCURRENCY} at once`);
console.log(
  `  ${result.spans_per_s} spans/s acknowledged by Kafka; export p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms; ${refused} refused`,
);
console.log(JSON.stringify(result));
