// Spans per second accepted and acknowledged by Kafka over OTLP/HTTP protobuf, batches of 512
// spans, several exporters at once; p99 of one export request; what each stage of the receiver
// costs per span. The receiver runs in its own process (bench/receiver-process.ts), as
// `tracehouse receive` does; BENCH_CPU_PROF=<dir> writes its V8 CPU profile there. The last line is JSON.
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import http from "node:http";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { createTopicCatalogue } from "@tracehouse/schemas";
import { testKafka, uniqueName, useKafka } from "@tracehouse/testkit";
import { exportBody } from "./otlp-bodies.js";
import type { ReceiverMessage, ReceiverSetup } from "./receiver-process.js";

const SPANS_PER_REQUEST = 512;
const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 600);
const CONCURRENCY = Number(process.env["BENCH_CONCURRENCY"] ?? 8);
const CPU_PROFILE_DIR = process.env["BENCH_CPU_PROF"];
const DISTINCT_BODIES = 64;

const loadAtStart = loadavg()[0] ?? 0;
const { brokers } = await useKafka();
const kafka = await testKafka("receiver-bench");
const admin = kafka.admin();
await admin.connect();
const topicPrefix = `${uniqueName("rbench")}.`;
const names = createTopicCatalogue({ prefix: topicPrefix }).all.map((t) => t.name);
await admin.createTopics({
  waitForLeaders: true,
  topics: names.map((topic) => ({ topic, numPartitions: 6, replicationFactor: 1 })),
});

const bodies = Array.from({ length: DISTINCT_BODIES }, () => exportBody(SPANS_PER_REQUEST));

const setup: ReceiverSetup = {
  brokers,
  topicPrefix,
  producers: Number(process.env["BENCH_PRODUCERS"] ?? 1),
  maxConcurrentRequests: CONCURRENCY * 2,
  compression: process.env["BENCH_COMPRESSION"] || null,
  maxBatchBytes: process.env["BENCH_BATCH_BYTES"] ? Number(process.env["BENCH_BATCH_BYTES"]) : null,
};
const child: ChildProcess = fork(fileURLToPath(new URL("receiver-process.ts", import.meta.url)), {
  execArgv: [
    "--import",
    "tsx",
    ...(CPU_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${CPU_PROFILE_DIR}`] : []),
  ],
  env: { ...process.env, BENCH_RECEIVER: JSON.stringify(setup) },
});
const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
const replies: ((message: ReceiverMessage) => void)[] = [];
child.on("message", (message: ReceiverMessage) => replies.shift()?.(message));
const reply = (): Promise<ReceiverMessage> =>
  Promise.race([
    new Promise<ReceiverMessage>((resolve) => replies.push(resolve)),
    exited.then((code) => Promise.reject(new Error(`the receiver process exited (${code})`))),
  ]);
const ready = await reply();
if (ready.kind !== "ready") throw new Error("the receiver process did not start");
const url = new URL(ready.url);
async function receiverStats(): Promise<Extract<ReceiverMessage, { kind: "stats" }>> {
  const answer = reply();
  child.send("stats");
  const message = await answer;
  if (message.kind !== "stats") throw new Error("unexpected answer from the receiver process");
  return message;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
function exportOnce(index: number): Promise<{ ms: number; status: number }> {
  const payload = bodies[index % DISTINCT_BODIES] as Buffer;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/x-protobuf", "content-length": payload.length },
      },
      (response) => {
        response.resume();
        response.on("end", () =>
          resolve({ ms: performance.now() - started, status: response.statusCode ?? 0 }),
        );
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(payload);
  });
}

// warm-up: connections, JIT, topic metadata
await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => exportOnce(i)));

const before = await receiverStats();
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
const after = await receiverStats();
const stopped = exited;
child.send("stop");
const killer = setTimeout(() => child.kill(), 30_000);
await stopped;
clearTimeout(killer);
agent.destroy();
await admin.deleteTopics({ topics: names });
await admin.disconnect();

const spans = after.stats.spans - before.stats.spans;
const perSpan = (us: number): number => Number((us / Math.max(1, spans)).toFixed(1));
const stages = {
  decode: perSpan(after.stats.decodeCpuUs - before.stats.decodeCpuUs),
  map: perSpan(after.stats.mapCpuUs - before.stats.mapCpuUs),
  emit: perSpan(after.stats.emitCpuUs - before.stats.emitCpuUs),
  total: perSpan(after.cpuUs - before.cpuUs),
};
const result = {
  spans_per_s: Math.round(accepted / seconds),
  p99_ms: Number(quantile(0.99).toFixed(1)),
  p50_ms: Number(quantile(0.5).toFixed(1)),
  requests: REQUESTS,
  spans_per_request: SPANS_PER_REQUEST,
  concurrency: CONCURRENCY,
  refused_requests: refused,
  kafka_batches: after.stats.batchesSent - before.stats.batchesSent,
  producers: setup.producers,
  kafka_send_p50_ms: Number(after.stats.sendP50Ms.toFixed(1)),
  kafka_send_p99_ms: Number(after.stats.sendP99Ms.toFixed(1)),
  records_per_span: Number(((after.stats.records - before.stats.records) / Math.max(1, spans)).toFixed(2)),
  decode_cpu_us_per_span: stages.decode,
  map_cpu_us_per_span: stages.map,
  emit_cpu_us_per_span: stages.emit,
  other_cpu_us_per_span: Number((stages.total - stages.decode - stages.map - stages.emit).toFixed(1)),
  receiver_cpu_us_per_span: stages.total,
  kafka_wait_us_per_span: perSpan(after.stats.ackWaitUs - before.stats.ackWaitUs),
  seconds: Number(seconds.toFixed(2)),
  load_avg_1m_start: Number(loadAtStart.toFixed(2)),
  load_avg_1m_end: Number((loadavg()[0] ?? 0).toFixed(2)),
};
console.log(`OTLP/HTTP protobuf, ${REQUESTS} requests of ${SPANS_PER_REQUEST} spans, ${CONCURRENCY} at once`);
console.log(
  `  ${result.spans_per_s} spans/s acknowledged by Kafka; export p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms; ${refused} refused`,
);
console.log(
  `  receiver CPU per span: decode ${stages.decode} µs, map ${stages.map} µs, emit/encode ${stages.emit} µs, ` +
    `other (HTTP, sending to Kafka, GC) ${result.other_cpu_us_per_span} µs; ${stages.total} µs in all ` +
    `(${Math.round(1e6 / Math.max(1, stages.total))} spans/s per core); waiting for Kafka ${result.kafka_wait_us_per_span} µs/span (wall)`,
);
console.log(JSON.stringify(result));
