// Caller-side cost of emit and sustained throughput against the real broker, compared with a
// bare kafkajs producer sending the same pre-encoded records in batches of the same size.
// The producer first: it puts its linear per-partition grouping and its record encoder into kafkajs
// before kafkajs loads them, so the bare kafkajs baseline below sends with them too (like for like).
import {
  createAgentTracer,
  createExecutionTracker,
  createProducer,
  directRecords,
  linearGrouping,
  resolveProducerConfig,
} from "../src/index.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import kafkajs from "kafkajs";
import type { Message } from "kafkajs";
import { TraceContext } from "@tracehouse/context";
import {
  AgentEventKind,
  contentTypeOf,
  createTopicCatalogue,
  encodeRecord,
  newEventId,
  nowMicros,
  RecordType,
} from "@tracehouse/schemas";
import { testKafka, uniqueName, useKafka } from "@tracehouse/testkit";
import type { Producer } from "../src/index.js";

const EMITS = Number(process.env["BENCH_EMITS"] ?? 200_000);
const THROUGHPUT_RECORDS = Number(process.env["BENCH_RECORDS"] ?? 100_000);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 5);
const SPILL_EMITS = Number(process.env["BENCH_SPILL_EMITS"] ?? 50_000);
const CHUNK = 1000;
/** Send lanes of the producers under test; the default of the producer's options when unset. */
const SEND_LANES =
  process.env["BENCH_SEND_LANES"] === undefined ? undefined : Number(process.env["BENCH_SEND_LANES"]);

const { brokers } = await useKafka();
const kafka = await testKafka("producer-bench");
const admin = kafka.admin();
await admin.connect();
const topics = createTopicCatalogue({ prefix: `${uniqueName("bench")}.` });
// the record topics with 6 partitions each, and the compacted topic the producer publishes its schemas to
const benchTopics = topics.all.filter((t) => t.recordType !== null || t.name === topics.schemas);
const topicNames = benchTopics.map((t) => t.name);
await admin.createTopics({
  waitForLeaders: true,
  topics: benchTopics.map((spec) => ({
    topic: spec.name,
    numPartitions: spec.recordType === null ? spec.partitions : 6,
    replicationFactor: 1,
    configEntries: [...spec.configEntries],
  })),
});
const spoolRoot = mkdtempSync(path.join(tmpdir(), "tracehouse-producer-bench-"));
const defaults = resolveProducerConfig({ brokers });

const contexts = Array.from({ length: 256 }, () => TraceContext.create({ userId: "bench-user" }));
const attributes = { tool: "web_search", model: "small-model", region: "eu-west-1" };
function fields(i: number) {
  return {
    event_kind: "TOOL_CALL_END" as const,
    name: "web_search",
    status: "ok",
    duration_ms: 12.5,
    payload_bytes: 2048,
    attributes,
    execution_id: "0192f0c4-7a10-7c3e-9f00-0a1b2c3d4e5f",
    agent_name: i % 2 === 0 ? "planner" : "researcher",
  };
}

function newProducer(): Producer {
  return createProducer({
    brokers,
    topics,
    clientId: uniqueName("bench"),
    ...(SEND_LANES === undefined ? {} : { sendLanes: SEND_LANES }),
    spool: { dir: mkdtempSync(path.join(spoolRoot, "spool-")) },
  });
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

async function measureEmitCost(): Promise<{ p50: number; p99: number; p999: number; mean: number }> {
  const producer = newProducer();
  for (let i = 0; i < 30_000; i++) {
    producer.emitEvent(fields(i), contexts[i & 255]);
    if (i % CHUNK === 0) await yieldToLoop();
  }
  await producer.flush({ timeoutMs: 60_000 });
  const samples = new Float64Array(EMITS);
  for (let i = 0; i < EMITS; i++) {
    const context = contexts[i & 255];
    const f = fields(i);
    const started = performance.now();
    producer.emitEvent(f, context);
    samples[i] = (performance.now() - started) * 1000;
    if (i % CHUNK === CHUNK - 1) await yieldToLoop();
  }
  await producer.flush({ timeoutMs: 60_000 });
  const stats = producer.stats();
  await producer.close();
  if (stats.sent !== 30_000 + EMITS)
    throw new Error(`emit bench: sent ${stats.sent}, expected ${30_000 + EMITS}`);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  samples.sort();
  return {
    p50: percentile(samples, 0.5),
    p99: percentile(samples, 0.99),
    p999: percentile(samples, 0.999),
    mean,
  };
}

/**
 * Caller-side cost of the execution API's `recordEvent` (what an agent calls through the tracker):
 * the execution's envelope added to the fields, then `emit`.
 */
async function measureRecordEventCost(): Promise<{ p50: number; p99: number }> {
  const producer = newProducer();
  const execution = createExecutionTracker(producer).startExecution(undefined, {
    agentName: "planner",
    metadata: { region: "eu" },
  });
  const samples = new Float64Array(EMITS);
  for (let i = -30_000; i < EMITS; i++) {
    const started = performance.now();
    execution.recordEvent(AgentEventKind.ToolCallEnd, "search", {
      status: "ok",
      durationMs: 12.5,
      attributes,
    });
    if (i >= 0) samples[i] = (performance.now() - started) * 1000;
    if (i % CHUNK === 0) await yieldToLoop();
  }
  execution.complete();
  await producer.close();
  samples.sort();
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

/**
 * Caller-side cost per record of traced executions shaped like the load run's agents': the tracker
 * with an AgentTracer, so the execution, its tool call and its LLM call are OpenTelemetry spans too,
 * exported as span records. Time in the calls ÷ the records they emitted.
 */
async function measureTracedExecutionCost(): Promise<number> {
  const producer = newProducer();
  const tracker = createExecutionTracker(producer, { tracer: createAgentTracer({ producer }) });
  const traces = Math.ceil(EMITS / 12);
  let busyMs = 0;
  let acceptedBefore = 0;
  for (let i = -2000; i < traces; i++) {
    if (i === 0) acceptedBefore = producer.stats().accepted;
    const started = performance.now();
    const run = tracker.startExecution(contexts[i & 255], { agentName: "planner", input: "request" });
    run.startToolCall("web_search", { region: "eu-west-1" }).end({ status: "ok", payloadBytes: 2048 });
    const llm = run.startLlmCall("small-model");
    llm.firstToken();
    llm.end({ status: "ok", usage: { promptTokens: 812, completionTokens: 95 } });
    run.recordEvent(AgentEventKind.Custom, "checkpoint", { attributes: { step: "1" } });
    run.complete("answer", { usage: { promptTokens: 1200, completionTokens: 240 } });
    if (i >= 0) busyMs += performance.now() - started;
    if (i % 100 === 0) await yieldToLoop();
  }
  const records = producer.stats().accepted - acceptedBefore;
  await producer.close();
  return (busyMs * 1000) / records;
}

/** Emit cost while the queue is full and spills to disk (broker unreachable, fsync after every write). */
async function measureSpillingEmitCost(): Promise<{ p50: number; p99: number; spooled: number }> {
  const producer = createProducer({
    brokers: ["127.0.0.1:1"],
    topics,
    clientId: uniqueName("bench_spill"),
    spool: {
      dir: mkdtempSync(path.join(spoolRoot, "spill-")),
      fsync: "always",
      maxBytes: 1024 * 1024 * 1024,
    },
    maxQueueRecords: 1000,
    connectionTimeoutMs: 200,
    closeTimeoutMs: 2000,
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  const samples = new Float64Array(SPILL_EMITS);
  for (let i = 0; i < SPILL_EMITS; i++) {
    const context = contexts[i & 255];
    const f = fields(i);
    const started = performance.now();
    producer.emitEvent(f, context);
    samples[i] = (performance.now() - started) * 1000;
    if (i % CHUNK === CHUNK - 1) await yieldToLoop();
  }
  await producer.close();
  const stats = producer.stats();
  if (stats.spooled === 0) throw new Error("spill bench: nothing was spooled");
  samples.sort();
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99), spooled: stats.spooled };
}

async function producerThroughput(): Promise<number> {
  const producer = newProducer();
  await producer.flush();
  const started = performance.now();
  for (let i = 0; i < THROUGHPUT_RECORDS; i++) {
    // flow control instead of spilling: as fast as the pipeline sends, not as fast as the loop emits
    await producer.emitWithBackpressure(RecordType.Event, fields(i), contexts[i & 255]);
    if (i % CHUNK === CHUNK - 1) await yieldToLoop();
  }
  await producer.flush({ timeoutMs: 120_000 });
  const elapsedS = (performance.now() - started) / 1000;
  const stats = producer.stats();
  await producer.close();
  if (stats.sent !== THROUGHPUT_RECORDS || stats.spooled !== 0) {
    throw new Error(`throughput bench: sent ${stats.sent}, spooled ${stats.spooled}`);
  }
  return THROUGHPUT_RECORDS / elapsedS;
}

/** The same records, encoded beforehand, sent by kafkajs alone in batches of the producer's default size. */
function preEncoded(): Message[] {
  const topic = topics.topicFor(RecordType.Event);
  const contentType = contentTypeOf(RecordType.Event);
  const messages: Message[] = [];
  for (let i = 0; i < THROUGHPUT_RECORDS; i++) {
    const context = contexts[i & 255] as TraceContext;
    const value = encodeRecord(RecordType.Event, {
      ...fields(i),
      event_id: newEventId(),
      event_time: nowMicros(),
      trace_id: context.traceId,
      span_id: context.spanId,
      user_id: context.userId ?? null,
    });
    const trace = context.toHeaders();
    const headers: Record<string, string> = { "content-type": contentType, traceparent: trace.traceparent };
    if (trace.baggage !== undefined) headers.baggage = trace.baggage;
    messages.push({ key: context.traceId, value, headers });
  }
  void topic;
  return messages;
}

async function kafkajsThroughput(messages: Message[]): Promise<number> {
  const client = new kafkajs.Kafka({
    clientId: uniqueName("bench_bare"),
    brokers: [...brokers],
    logLevel: kafkajs.logLevel.ERROR,
  });
  const producer = client.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const topic = topics.topicFor(RecordType.Event);
  const started = performance.now();
  let batch: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = (message.value as Buffer).length + 32 + 150;
    if (
      batch.length > 0 &&
      (batch.length >= defaults.maxBatchRecords || bytes + size > defaults.maxBatchBytes)
    ) {
      await producer.sendBatch({
        topicMessages: [{ topic, messages: batch }],
        acks: -1,
        compression: kafkajs.CompressionTypes.GZIP,
      });
      batch = [];
      bytes = 0;
    }
    batch.push(message);
    bytes += size;
  }
  if (batch.length > 0) {
    await producer.sendBatch({
      topicMessages: [{ topic, messages: batch }],
      acks: -1,
      compression: kafkajs.CompressionTypes.GZIP,
    });
  }
  const elapsedS = (performance.now() - started) / 1000;
  await producer.disconnect();
  return messages.length / elapsedS;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

try {
  console.log(
    `broker ${brokers.join(",")}; compression ${defaults.compression}; batches of ≤${defaults.maxBatchRecords} records / ${defaults.maxBatchBytes} bytes; linger ${defaults.lingerMs} ms`,
  );
  const emit = await measureEmitCost();
  console.log(
    `emit (caller side, ${EMITS} emits): p50 ${emit.p50.toFixed(2)} µs, p99 ${emit.p99.toFixed(2)} µs, p99.9 ${emit.p999.toFixed(2)} µs, mean ${emit.mean.toFixed(2)} µs`,
  );
  const recordEvent = await measureRecordEventCost();
  console.log(
    `execution.recordEvent (caller side, ${EMITS} calls): p50 ${recordEvent.p50.toFixed(2)} µs, p99 ${recordEvent.p99.toFixed(2)} µs`,
  );
  const tracedUs = await measureTracedExecutionCost();
  console.log(
    `traced executions (tracker and AgentTracer, caller side): ${tracedUs.toFixed(2)} µs per record emitted`,
  );
  const spill = await measureSpillingEmitCost();
  console.log(
    `emit while spilling (queue of 1000 full, broker down, fsync always; ${SPILL_EMITS} emits, ${spill.spooled} spooled): p50 ${spill.p50.toFixed(2)} µs, p99 ${spill.p99.toFixed(2)} µs`,
  );
  const messages = preEncoded();
  await kafkajsThroughput(messages.slice(0, 20_000));
  const ours: number[] = [];
  const bare: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ours.push(await producerThroughput());
    bare.push(await kafkajsThroughput(messages));
    console.log(
      `round ${round + 1}: producer ${Math.round(ours[round]!)} records/s (emit → acknowledged), bare kafkajs ${Math.round(bare[round]!)} records/s (pre-encoded)`,
    );
  }
  const recordsPerS = median(ours);
  const kafkajsPerS = median(bare);
  // each round runs both back to back, so the ratio of a round is less exposed to other load on the machine
  const ratio = median(ours.map((r, i) => r / (bare[i] as number)));
  console.log(
    `median of ${ROUNDS} rounds of ${THROUGHPUT_RECORDS} records: producer ${Math.round(recordsPerS)} records/s, kafkajs ${Math.round(kafkajsPerS)} records/s, ratio ${ratio.toFixed(3)}`,
  );
  console.log(
    JSON.stringify({
      emit_p50_us: Number(emit.p50.toFixed(2)),
      emit_p99_us: Number(emit.p99.toFixed(2)),
      emit_p999_us: Number(emit.p999.toFixed(2)),
      emit_mean_us: Number(emit.mean.toFixed(2)),
      record_event_p50_us: Number(recordEvent.p50.toFixed(2)),
      record_event_p99_us: Number(recordEvent.p99.toFixed(2)),
      traced_execution_us_per_record: Number(tracedUs.toFixed(2)),
      emit_p99_us_spilling: Number(spill.p99.toFixed(2)),
      records_per_s: Math.round(recordsPerS),
      kafkajs_records_per_s: Math.round(kafkajsPerS),
      ratio_vs_kafkajs: Number(ratio.toFixed(3)),
      compression: defaults.compression,
      send_lanes: SEND_LANES ?? defaults.sendLanes,
      kafkajs_grouping: linearGrouping,
      kafkajs_records: directRecords,
      emits: EMITS,
      records: THROUGHPUT_RECORDS,
    }),
  );
} finally {
  await admin.deleteTopics({ topics: topicNames }).catch(() => undefined);
  await admin.disconnect();
  rmSync(spoolRoot, { recursive: true, force: true });
}
