/**
 * The measured side of the benchmark, in a process of its own: opens the embedded sink, takes
 * the resident-memory baseline, then runs one worker over the pre-filled topics until every
 * record is written, sampling memory. Prints one JSON object.
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { ClickHouseTraceSchema, createSink } from "@tracehouse/clickhouse";
import { Kafka, logLevel } from "kafkajs";
import { Registry } from "prom-client";
import { WORKER_DEFAULTS, createWorker } from "../src/index.js";
import { threadGroupsCpuNs, threadGroupsPerRecord } from "@tracehouse/testkit";
import { processCpuNs, round, threadCpuNs } from "./cpu.js";
import { measureSteps } from "./steps.js";

interface Args {
  readonly brokers: string[];
  readonly topics: string[];
  readonly dlq: string;
  readonly dataDir: string;
  readonly groupId: string;
  readonly total: number;
}

const args = JSON.parse(process.argv[2]!) as Args;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function rssBytes(): number {
  const status = readFileSync("/proc/self/status", "utf8");
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match === null ? process.memoryUsage.rss() : Number(match[1]) * 1024;
}

/** Waits (at most a minute) until the engine has run no merge for two readings in a row. */
async function mergesSettled(): Promise<void> {
  let quiet = 0;
  for (let waited = 0; waited < 60_000 && quiet < 2; waited += 250) {
    const [row] = await sink.query<{ n: number }>("SELECT count() AS n FROM system.merges");
    quiet = Number(row?.n ?? 0) === 0 ? quiet + 1 : 0;
    await sleep(250);
  }
}

async function metricSum(registry: Registry, name: string, label?: string): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric(name)!.get();
  const out: Record<string, number> = {};
  for (const value of metric.values) {
    const key = label === undefined ? "all" : String(value.labels[label]);
    out[key] = (out[key] ?? 0) + value.value;
  }
  return out;
}

const sessions =
  process.env["BENCH_SESSIONS"] === undefined ? undefined : Number(process.env["BENCH_SESSIONS"]);
const sink = createSink({
  dataDir: args.dataDir,
  database: "bench",
  ...(sessions === undefined ? {} : { sessions }),
});
await new ClickHouseTraceSchema(sink, { ttlDays: null }).createTables();
await sink.query("SELECT count() FROM bench.agent_events");
const registry = new Registry();
const workerOptions = JSON.parse(process.env["BENCH_WORKER_OPTIONS"] ?? "{}") as {
  maxBatchRows?: number;
  maxConcurrentInserts?: number;
};
const worker = createWorker({
  brokers: args.brokers,
  groupId: args.groupId,
  topics: args.topics,
  deadLetterTopic: args.dlq,
  sink,
  registry,
  ...workerOptions,
});
global.gc?.();
await sleep(1000);
const baseline = rssBytes();
// `external` already counts the ArrayBuffers (Buffers) among the memory held outside the V8 heap.
const baselineMemory = (({ heapTotal, external }) => ({
  heapTotal: heapTotal >> 20,
  external: external >> 20,
}))(process.memoryUsage());
let peak = baseline;
let peakBuffered = 0;
let peakHeap = 0;
let peakExternal = 0;
/** Where the memory was when RSS peaked: V8 heap, Buffers; the rest is the engine (chdb). */
let atPeak = {};
const sampler = setInterval(() => {
  const now = rssBytes();
  const memory = process.memoryUsage();
  if (now > peak)
    atPeak = {
      heapTotal: memory.heapTotal >> 20,
      heapUsed: memory.heapUsed >> 20,
      external: memory.external >> 20,
    };
  peak = Math.max(peak, now);
  peakHeap = Math.max(peakHeap, memory.heapTotal);
  peakExternal = Math.max(peakExternal, memory.external);
  peakBuffered = Math.max(peakBuffered, worker.status().bufferedBytes);
}, 25);

const loadBefore = loadavg()[0]!;
const started = performance.now();
await worker.start();
const joined = performance.now();
const mainCpuAtJoin = threadCpuNs();
const processCpuAtJoin = processCpuNs();
const threadsAtJoin = threadGroupsCpuNs();
const progress: { atMs: number; records: number }[] = [];
for (;;) {
  const written = (await metricSum(registry, "tracehouse_worker_records_total")).all ?? 0;
  progress.push({ atMs: performance.now() - joined, records: written });
  if (written >= args.total) break;
  await sleep(50);
}
const done = performance.now();
const workerMainNs = threadCpuNs() - mainCpuAtJoin;
const workerProcessNs = processCpuNs() - processCpuAtJoin;
const workerThreads = threadGroupsPerRecord(threadsAtJoin, threadGroupsCpuNs(), args.total);
const loadDuring = loadavg()[0]!;
const rows = await metricSum(registry, "tracehouse_worker_rows_total", "table");
const batches = await registry.getSingleMetric("tracehouse_worker_batch_rows")!.get();
const inserts = batches.values.filter(
  (value) => (value as { metricName?: string }).metricName === "tracehouse_worker_batch_rows_count",
);
await worker.stop();
clearInterval(sampler);

const final: Record<string, number> = {};
for (const table of Object.keys(rows)) {
  const [row] = await sink.query<{ n: number }>(`SELECT count() AS n FROM bench.${table} FINAL`);
  final[table] = Number(row?.n ?? 0);
}

// The same records again, step by step, then straight into the engine (database bench_direct), once
// the worker's merges are done: the baseline must not share the engine's threads with them.
await mergesSettled();
const direct = createSink({
  dataDir: args.dataDir,
  database: "bench_direct",
  ...(sessions === undefined ? {} : { sessions }),
});
await new ClickHouseTraceSchema(direct, { ttlDays: null }).createTables();
const steps = await measureSteps({
  kafka: new Kafka({ brokers: args.brokers, clientId: "bench-steps", logLevel: logLevel.NOTHING }),
  groupId: `${args.groupId}-steps`,
  topics: args.topics,
  total: args.total,
  sink: direct,
  batchRows: workerOptions.maxBatchRows ?? WORKER_DEFAULTS.maxBatchRows,
  concurrency: workerOptions.maxConcurrentInserts ?? WORKER_DEFAULTS.maxConcurrentInserts,
});
await direct.close();
await sink.close();

const seconds = (done - joined) / 1000;
// Sustained rate: between 10% and 90% of the records, away from start-up and the tail.
const at = (fraction: number): number => progress.find((p) => p.records >= args.total * fraction)!.atMs;
const sustainedSeconds = (at(0.9) - at(0.1)) / 1000;
const recordsPerS = Math.round((args.total * 0.8) / sustainedSeconds);
console.log(
  JSON.stringify({
    records: args.total,
    startup_ms: Math.round(joined - started),
    seconds,
    records_per_s_overall: Math.round(args.total / seconds),
    records_per_s: recordsPerS,
    direct_insert_rows_per_s: steps.directInsertRowsPerS,
    ratio_vs_direct_insert: round(recordsPerS / steps.directInsertRowsPerS, 2),
    cpu_us_per_record: {
      worker_main_thread: round(workerMainNs / 1000 / args.total),
      worker_engine_and_other_threads: round((workerProcessNs - workerMainNs) / 1000 / args.total),
      worker_by_thread: workerThreads,
      steps: steps.cpuUsPerRecord,
    },
    /** The engine's allocator settings (the embedded sink's, unless the environment set them). */
    je_malloc_conf: process.env["JE_MALLOC_CONF"],
    load_average: {
      before: round(loadBefore, 2),
      during: round(loadDuring, 2),
      after: round(loadavg()[0]!, 2),
    },
    rows_per_s: Object.fromEntries(
      Object.entries(rows).map(([table, n]) => [table, Math.round(n / seconds)]),
    ),
    rows: rows,
    rows_final: final,
    inserts: Object.fromEntries(inserts.map((value) => [String(value.labels.table), value.value])),
    rss_baseline_mb: Math.round(baseline / 1024 / 1024),
    rss_peak_mb: Math.round(peak / 1024 / 1024),
    rss_growth_mb: Math.round((peak - baseline) / 1024 / 1024),
    peak_heap_total_mb: Math.round(peakHeap / 1024 / 1024),
    peak_external_mb: Math.round(peakExternal / 1024 / 1024),
    at_peak_mb: atPeak,
    baseline_memory_mb: baselineMemory,
    peak_buffered_record_mb: Math.round((peakBuffered / 1024 / 1024) * 10) / 10,
  }),
);
