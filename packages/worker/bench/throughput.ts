/**
 * Worker throughput over pre-filled topics into the embedded engine.
 * Fills the six record topics (a realistic mix, 25 records per trace in 3 executions), then runs the worker alone in a child process
 * (bench/run-worker.ts) and reports records/s, rows/s per table and resident memory; then, in the same
 * child, times each step over the same records and inserts the same rows straight into the engine
 * (bench/steps.ts): the baseline of `ratio_vs_direct_insert`, and CPU µs per record per step.
 * Last line: one JSON object. BENCH_RECORDS sets the record count (default 300000), BENCH_TIMEOUT_S
 * how long the child may run (default the count ÷ 1000, at least 120); BENCH_NODE_FLAGS,
 * BENCH_CHILD_ENV, BENCH_WORKER_OPTIONS (JSON) and BENCH_SESSIONS (engine connections) vary the child.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TraceContext } from "@tracehouse/context";
import {
  RecordType,
  encodeRecord,
  messageKeyOf,
  CONTENT_TYPE_HEADER,
  contentTypeOf,
} from "@tracehouse/schemas";
import { testTopics, uniqueName, useKafka } from "@tracehouse/testkit";
import { Partitioners } from "kafkajs";
import type { Message } from "kafkajs";
import { toKafkaHeaders } from "@tracehouse/context";
import { sampleRecord } from "../test/helpers/records.js";

const TOTAL = Number(process.env["BENCH_RECORDS"] ?? 300_000);
/** The worker's child process is stopped after this long: by default ten times what 10,000 records/s takes. */
const TIMEOUT_S = Number(process.env["BENCH_TIMEOUT_S"] ?? Math.max(120, TOTAL / 1000));
const PARTITIONS = 6;
/** Records of one trace (an execution tree with its events, spans, metrics, errors). */
const RECORDS_PER_TRACE = 25;
/**
 * Executions of one trace (a root agent and its sub-agents): each record belongs to one, as an
 * agent's records do. BENCH_EXECUTIONS_PER_TRACE=25 gives every record an execution of its own.
 */
const EXECUTIONS_PER_TRACE = Number(process.env["BENCH_EXECUTIONS_PER_TRACE"] ?? 3);
/** Share of each record type in the stream: events and spans dominate. */
const MIX: readonly [RecordType, number][] = [
  [RecordType.Event, 0.4],
  [RecordType.Span, 0.25],
  [RecordType.Execution, 0.15],
  [RecordType.Correlation, 0.08],
  [RecordType.Metrics, 0.07],
  [RecordType.Error, 0.05],
];

const { brokers } = await useKafka();
const admin = await testTopics();
const topics = Object.fromEntries(
  await Promise.all(
    MIX.map(
      async ([type]) => [type, await admin.create(`bench_${type}`, { numPartitions: PARTITIONS })] as const,
    ),
  ),
) as Record<RecordType, string>;
const dlq = await admin.create("bench_dlq", { numPartitions: 1 });
/**
 * The settings the worker is deployed with (README: operations): a bounded V8 heap with 8 MB
 * semi-spaces, a fixed glibc mmap threshold. The engine's allocator settings are the embedded
 * sink's own (JE_MALLOC_CONF unless set).
 */
const NODE_FLAGS = (process.env["BENCH_NODE_FLAGS"] ?? "--max-old-space-size=256 --max-semi-space-size=8")
  .split(" ")
  .filter(Boolean);
const CHILD_ENV = {
  MALLOC_MMAP_THRESHOLD_: "131072",
  ...(JSON.parse(process.env["BENCH_CHILD_ENV"] ?? "{}") as object),
};

const fillStarted = performance.now();
const producer = admin.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();
let produced = 0;
let trace = TraceContext.create();
const perType: Record<string, number> = {};
const CHUNK = 6000;
while (produced < TOTAL) {
  const byTopic = new Map<string, Message[]>();
  for (let i = 0; i < CHUNK && produced < TOTAL; i++, produced++) {
    let pick = ((produced * 7919) % 1000) / 1000;
    let type = MIX[0]![0];
    for (const [candidate, share] of MIX) {
      if (pick < share) {
        type = candidate;
        break;
      }
      pick -= share;
    }
    if (produced % RECORDS_PER_TRACE === 0) trace = TraceContext.create({ userId: `user-${produced % 50}` });
    const context = trace.child();
    const execution = (produced % RECORDS_PER_TRACE) % EXECUTIONS_PER_TRACE;
    const record = {
      ...sampleRecord(type, context, produced),
      execution_id: `exec-${Math.floor(produced / RECORDS_PER_TRACE)}-${execution}`,
      agent_name: `agent-${execution % 3}`,
    };
    const topic = topics[type];
    let list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, (list = []));
    list.push({
      key: messageKeyOf(record),
      value: encodeRecord(type, record as never),
      headers: toKafkaHeaders(context, { [CONTENT_TYPE_HEADER]: contentTypeOf(type) }),
    });
    perType[type] = (perType[type] ?? 0) + 1;
  }
  await producer.sendBatch({
    acks: -1,
    topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
  });
}
await producer.disconnect();
const fillSeconds = (performance.now() - fillStarted) / 1000;
console.log(`filled ${TOTAL} records in ${fillSeconds.toFixed(1)} s (${JSON.stringify(perType)})`);

const dataDir = mkdtempSync(join(tmpdir(), "tracehouse-bench-"));
const child = spawn(
  process.execPath,
  [
    "--expose-gc",
    ...NODE_FLAGS,
    "--import",
    "tsx",
    fileURLToPath(new URL("./run-worker.ts", import.meta.url)),
    JSON.stringify({
      brokers,
      topics: Object.values(topics),
      dlq,
      dataDir,
      groupId: uniqueName("bench"),
      total: TOTAL,
    }),
  ],
  { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...CHILD_ENV } },
);
let output = "";
child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
// A worker that stalls (nothing written, nothing thrown) would otherwise keep the benchmark waiting forever.
const deadline = setTimeout(() => {
  console.error(`worker run still going after ${TIMEOUT_S} s (BENCH_TIMEOUT_S): stopping it`);
  child.kill("SIGKILL");
}, TIMEOUT_S * 1000);
const code = await new Promise<number | string | null>((resolve) =>
  child.on("close", (exitCode, signal) => resolve(exitCode ?? signal)),
);
clearTimeout(deadline);
rmSync(dataDir, { recursive: true, force: true });
await admin.cleanup();
if (code !== 0) {
  console.error(`worker run failed (${typeof code === "string" ? code : `exit ${code}`}):\n${output}`);
  process.exit(1);
}
const result = JSON.parse(output.trim().split("\n").pop()!) as {
  records_per_s: number;
  direct_insert_rows_per_s: number;
  ratio_vs_direct_insert: number;
  cpu_us_per_record: {
    worker_main_thread: number;
    worker_engine_and_other_threads: number;
    steps: Record<string, number>;
  };
  records_per_s_overall: number;
  rows_per_s: Record<string, number>;
  rows: Record<string, number>;
  rows_final: Record<string, number>;
  rss_baseline_mb: number;
  rss_peak_mb: number;
  rss_growth_mb: number;
  seconds: number;
};
for (const [type] of MIX) {
  const table = {
    event: "agent_events",
    span: "spans",
    execution: "agent_executions",
    correlation: "trace_correlations",
    metrics: "performance_metrics",
    error: "error_logs",
  }[type];
  if (result.rows_final[table] !== perType[type]) {
    console.error(`${table}: ${result.rows_final[table]} rows for ${perType[type]} records`);
    process.exit(1);
  }
}
console.log(`worker: ${TOTAL} records in ${result.seconds.toFixed(1)} s`);
console.log(
  `  records/s sustained (10%→90%): ${result.records_per_s}, overall: ${result.records_per_s_overall}`,
);
for (const [table, rate] of Object.entries(result.rows_per_s)) console.log(`  ${table}: ${rate} rows/s`);
console.log(
  `  direct insert of the same rows: ${result.direct_insert_rows_per_s} rows/s; ratio ${result.ratio_vs_direct_insert}`,
);
const cpu = result.cpu_us_per_record;
console.log(
  `  CPU µs/record in the worker run: main thread ${cpu.worker_main_thread}, engine and other threads ${cpu.worker_engine_and_other_threads}`,
);
console.log(
  `  CPU µs/record per step: ${Object.entries(cpu.steps)
    .map(([step, us]) => `${step} ${us}`)
    .join(", ")}`,
);
console.log(
  `  RSS baseline ${result.rss_baseline_mb} MB (sink open), peak ${result.rss_peak_mb} MB, growth ${result.rss_growth_mb} MB`,
);
console.log(
  JSON.stringify({
    ...result,
    partitions: PARTITIONS,
    fill_seconds: Math.round(fillSeconds * 10) / 10,
    node_flags: NODE_FLAGS.join(" "),
    malloc_mmap_threshold: CHILD_ENV.MALLOC_MMAP_THRESHOLD_,
    executions_per_trace: EXECUTIONS_PER_TRACE,
  }),
);
