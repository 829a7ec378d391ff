// End-to-end load benchmark: simulated agents (own process, producer library) → Kafka →
// worker (this process) → ClickHouse (embedded engine in this process). See --help.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { ClickHouseTraceSchema, EmbeddedSink } from "@tracehouse/clickhouse";
import { Compression } from "@tracehouse/producer";
import { embeddedDataDir } from "@tracehouse/testkit";
import type { WorkerOptions } from "@tracehouse/worker";
import { distribution, openPipeline, wallClockMs } from "../harness/index.js";
import { profileThisProcess, profilesIn, topSelfTime } from "./cpu-profile.js";
import { checkDelivery, engineMemory, storedRows } from "./clickhouse-checks.js";
import type { DeliveryCheck } from "./clickhouse-checks.js";
import { directInsert } from "./direct-insert.js";
import type { DirectInsertResult } from "./direct-insert.js";
import { LagSampler } from "./lag.js";
import { localBrokerPid, machineCpuSeconds, processCpuSeconds } from "./processes.js";
import type { AgentReport } from "./protocol.js";
import { SentinelWatch } from "./SentinelWatch.js";
import { spawnAgents } from "./spawn-agents.js";
import type { AgentsHandle } from "./spawn-agents.js";
import { insertTotals, rowsWritten } from "./worker-metrics.js";

const HELP = `Usage: npm run bench:e2e -- [options]

Producer (simulated agents, own process) → Kafka → worker → ClickHouse (embedded), measured.

  --traces <n>             traces to run (default 10000)
  --events-per-trace <n>   agent events per trace, besides lifecycle and metrics records (default 8)
  --agents <n>             concurrent simulated agents (default 16)
  --rate <n>               records/s offered, paced open loop (past what the pipeline takes, the producer
                           spools and may drop); 0 = closed loop, the agents waiting while a full producer
                           batch is queued: capacity, so emit-to-queryable includes the Kafka backlog
                           (default 0)
  --compression <c>        producer compression: gzip (the library's default) or none
  --partitions <n>         partitions per record topic (default 6)
  --sentinel-every <n>     one emit-to-queryable sentinel per n traces (default 20)
  --batch-rows <n>         worker maxBatchRows, also the direct-insert batch size (default 10000)
  --flush-interval-ms <n>  worker flushIntervalMs (default 1000)
  --worker-options <json>  more worker options, e.g. '{"maxBufferedBytes":16777216}' (default none)
  --poll-ms <n>            how often the worker's rows counter is read to trigger a sentinel lookup (default 2)
  --timeout-s <n>          give up after this long (default: from the record count)
  --no-direct              skip the direct-insert baseline
  --cpu-profile <dir>      write V8 CPU profiles of the worker and agents processes there, print the top functions
  -h, --help               this text

The last line of output is one JSON object. Exit status 1 on lost or duplicate records.`;

const { values: args } = parseArgs({
  options: {
    traces: { type: "string", default: "10000" },
    "events-per-trace": { type: "string", default: "8" },
    agents: { type: "string", default: "16" },
    rate: { type: "string", default: "0" },
    partitions: { type: "string", default: "6" },
    compression: { type: "string", default: "gzip" },
    "sentinel-every": { type: "string", default: "20" },
    "batch-rows": { type: "string", default: "10000" },
    "flush-interval-ms": { type: "string", default: "1000" },
    "poll-ms": { type: "string", default: "2" },
    "timeout-s": { type: "string" },
    "no-direct": { type: "boolean", default: false },
    "cpu-profile": { type: "string" },
    "worker-options": { type: "string", default: "{}" },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}

function integer(name: keyof typeof args, min: number): number {
  const raw = args[name];
  const value = Number(raw);
  if (typeof raw !== "string" || !Number.isSafeInteger(value) || value < min) {
    console.error(`--${name} must be an integer ≥ ${min}, got ${String(raw)}\n\n${HELP}`);
    process.exit(2);
  }
  return value;
}

const traces = integer("traces", 1);
const eventsPerTrace = integer("events-per-trace", 0);
const agentCount = integer("agents", 1);
const rate = integer("rate", 0);
const partitions = integer("partitions", 1);
const sentinelEvery = integer("sentinel-every", 0);
const batchRows = integer("batch-rows", 1);
const flushIntervalMs = integer("flush-interval-ms", 1);
const pollMs = integer("poll-ms", 1);
const compression = args.compression === "none" ? Compression.None : Compression.Gzip;
if (args.compression !== compression) {
  console.error(`--compression must be gzip or none, got ${args.compression}\n\n${HELP}`);
  process.exit(2);
}
const extraWorkerOptions = parseWorkerOptions(args["worker-options"]);
const profileDir = args["cpu-profile"] === undefined ? undefined : path.resolve(args["cpu-profile"]);
if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
const approxRecords = traces * (eventsPerTrace + 4);
const timeoutMs =
  (args["timeout-s"] === undefined ? 120 + approxRecords / 2000 : integer("timeout-s", 1)) * 1000;
const deadline = Date.now() + timeoutMs;
const MB = 1024 * 1024;
const cores = availableParallelism();

function parseWorkerOptions(json: string): WorkerOptions {
  try {
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
      return parsed as WorkerOptions;
  } catch {
    // reported below
  }
  console.error(`--worker-options must be a JSON object of worker options, got ${json}\n\n${HELP}`);
  process.exit(2);
}

/** Records of this run that Kafka acknowledged. */
function deliveredToKafka(report: AgentReport): number {
  return report.producer.sent - report.producer.recovered;
}

function fmt(value: number | null, digits = 1): string {
  return value !== null && Number.isFinite(value) ? value.toFixed(digits) : "n/a";
}

/** `value` rounded to `digits` decimals, null kept (a figure that could not be measured). */
function round(value: number | null, digits = 0): number | null {
  return value === null || !Number.isFinite(value) ? null : Number(value.toFixed(digits));
}

if (process.env["CLICKHOUSE_URL"]) {
  console.error(
    "load: this benchmark measures the embedded engine inside the worker's process; unset CLICKHOUSE_URL",
  );
  process.exit(2);
}
const pipeline = await openPipeline({
  name: "load",
  dataDir: embeddedDataDir(),
  partitions,
  worker: { ...extraWorkerOptions, maxBatchRows: batchRows, flushIntervalMs },
});
const { brokers, kafka, catalogue, database, worker, groupId } = pipeline;
// The embedded engine runs one call at a time per session (sink), so the measuring queries get
// a session of their own instead of queueing behind the worker's inserts.
const monitor = new EmbeddedSink({ dataDir: embeddedDataDir(), database });
const topics = catalogue.all.filter((spec) => spec.recordType !== null).map((spec) => spec.name);
const runId = catalogue.prefix.slice(0, -1);
const scratch = mkdtempSync(path.join(tmpdir(), "tracehouse-load-"));
const idsFile = path.join(scratch, "accepted-ids.txt");

console.log(
  `load: ${traces} traces × (${eventsPerTrace} events + lifecycle/metrics/spans), ${agentCount} agents, ` +
    `rate ${rate === 0 ? "unpaced" : `${rate}/s`}, ${compression} compression, ${partitions} partitions per topic, brokers ${brokers.join(",")}`,
);
console.log(
  `worker: maxBatchRows ${batchRows}, flushIntervalMs ${flushIntervalMs}, maxConcurrentInserts ` +
    `${worker.config.maxConcurrentInserts}, maxBufferedBytes ${worker.config.maxBufferedBytes}, ` +
    `maxBytesPerPartition ${worker.config.maxBytesPerPartition}, embedded ClickHouse in-process`,
);

const loopDelay = monitorEventLoopDelay({ resolution: 5 });
let exitCode = 1;
let rssTimer: NodeJS.Timeout | undefined;
const lag = new LagSampler(kafka, groupId, topics);
const watch = new SentinelWatch(monitor, database, {
  progress: () => rowsWritten(worker),
  triggerMs: pollMs,
  fallbackMs: 1000,
});
const brokerPid = localBrokerPid();
let agents: AgentsHandle | undefined;
let emittedCount: number | null = null;

try {
  await sleep(1000);
  const baseline = process.memoryUsage();
  const rssBaseline = baseline.rss;
  let peak = baseline;
  let enginePeak = 0;
  let engineSample: Promise<void> | null = null;
  let ticks = 0;
  rssTimer = setInterval(() => {
    const now = process.memoryUsage();
    if (now.rss > peak.rss) peak = now;
    if (ticks++ % 10 !== 0 || engineSample !== null) return;
    engineSample = engineMemory(monitor)
      .then((bytes) => void (enginePeak = Math.max(enginePeak, bytes)))
      .catch(() => undefined)
      .finally(() => (engineSample = null));
  }, 100);

  agents = spawnAgents(
    {
      brokers,
      topicPrefix: catalogue.prefix,
      clientId: `${runId}_agents`,
      spoolDir: path.join(scratch, "spool"),
      idsFile,
      traces,
      durationMs: null,
      eventsPerTrace,
      agents: agentCount,
      rate,
      sentinelEvery,
      compression,
      closeTimeoutMs: 120_000,
    },
    {
      onSentinels: (sentinels) => watch.add(sentinels),
      onEmitted: (accepted) => (emittedCount = accepted),
    },
    profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`],
  );
  await agents.ready;
  const profiler =
    profileDir === undefined ? null : await profileThisProcess(path.join(profileDir, "worker.cpuprofile"));
  const cpuBefore = {
    worker: process.cpuUsage(),
    broker: brokerPid === null ? null : processCpuSeconds(brokerPid),
    machine: machineCpuSeconds(),
  };
  lag.start();
  watch.start();
  loopDelay.enable();
  agents.start();

  // Once the agents have stopped emitting (final count known), stored rows are polled until
  // every accepted record is there; the producer's close and report come after. Records the
  // producer accepted but could not deliver (its report says so) are not waited for: the
  // delivery check counts them as lost.
  let finalReport: AgentReport | null = null;
  void agents.done.then(
    (r) => (finalReport = r),
    () => undefined,
  );
  let allQueryableAtMs = Number.NaN;
  let timedOut = false;
  for (;;) {
    if (Date.now() > deadline) {
      timedOut = true;
      break;
    }
    if (agents.child.exitCode !== null && finalReport === null) finalReport = await agents.done;
    if (emittedCount !== null) {
      const atMs = wallClockMs();
      const expected =
        finalReport === null ? emittedCount : Math.min(emittedCount, deliveredToKafka(finalReport));
      if (Number.isNaN(allQueryableAtMs) && (await storedRows(monitor, database)) >= expected) {
        allQueryableAtMs = atMs;
      }
      // Every row is in; a sentinel still missing then is a lookup problem, not a lost record
      // (the delivery check below counts those), so it gets a little time and no more.
      if (!Number.isNaN(allQueryableAtMs) && (watch.outstanding === 0 || atMs - allQueryableAtMs > 10_000))
        break;
    }
    await sleep(emittedCount === null ? 50 : 20);
  }
  if (timedOut) {
    console.error(`load: timed out (--timeout-s ${timeoutMs / 1000}) waiting for every record`);
    agents.stop();
  }
  loopDelay.disable();
  await profiler?.stop();
  await watch.stop();
  await lag.stop();
  const workerCpuS = (() => {
    const { user, system } = process.cpuUsage(cpuBefore.worker);
    return (user + system) / 1e6;
  })();
  const brokerCpuS =
    brokerPid === null || cpuBefore.broker === null
      ? null
      : (processCpuSeconds(brokerPid) ?? Number.NaN) - cpuBefore.broker;
  const machineNow = machineCpuSeconds();
  const machine =
    machineNow === null || cpuBefore.machine === null
      ? null
      : {
          busy: machineNow.busy - cpuBefore.machine.busy,
          total: machineNow.total - cpuBefore.machine.total,
        };
  const rssEnd = process.memoryUsage.rss();
  const report: AgentReport = await agents.done;
  clearInterval(rssTimer);
  const inserts = await insertTotals(worker);
  const allInserts = inserts.find((t) => t.table === "all")!;
  await worker.stop();

  const delivery: DeliveryCheck = await checkDelivery(monitor, database, idsFile);
  let direct: DirectInsertResult | null = null;
  if (!args["no-direct"]) {
    const directSink = new EmbeddedSink({ dataDir: embeddedDataDir(), database: `${database}_direct` });
    try {
      await new ClickHouseTraceSchema(directSink).createTables();
      direct = await directInsert({
        kafka,
        groupId: `${runId}_direct`,
        topics,
        sink: directSink,
        expected: deliveredToKafka(report),
        batchRows,
        concurrency: worker.config.maxConcurrentInserts,
        timeoutMs: 60_000 + deliveredToKafka(report) / 2,
      });
    } catch (error) {
      console.error(
        `load: direct-insert baseline failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      await directSink.command(`DROP DATABASE IF EXISTS ${directSink.database} SYNC`).catch(() => undefined);
      await directSink.close();
    }
  }

  const wallS = (allQueryableAtMs - report.firstEmitAtMs) / 1000;
  const emitS = (report.lastEmitAtMs - report.firstEmitAtMs) / 1000;
  const eventsPerS = report.accepted / wallS;
  const e2e = distribution(watch.latenciesMs);
  const polls = distribution(watch.pollMs);
  if (watch.outstanding > 0)
    console.error(
      `load: ${watch.outstanding} sentinels were never found (lost with their records, or a lookup problem)`,
    );
  const rssPeak = peak.rss;
  const perRecordUs = (cpuS: number | null): number | null =>
    cpuS === null ? null : (cpuS * 1e6) / report.accepted;
  const growthMb = (rssPeak - rssBaseline) / MB;
  const producer = report.producer;
  const ratio = direct === null ? null : eventsPerS / direct.rowsPerS;

  console.log("");
  console.log(
    `records: ${report.accepted} accepted in ${report.traces} traces (${report.notAccepted} not accepted); by table: ` +
      Object.entries(report.acceptedByTable)
        .map(([table, n]) => `${table} ${n}`)
        .join(", "),
  );
  console.log(
    `emit (caller side, ${report.emitUs.count} emits): p50 ${fmt(report.emitUs.p50, 2)} µs, p99 ${fmt(report.emitUs.p99, 2)} µs, ` +
      `p99.9 ${fmt(report.emitUs.p999, 2)} µs, max ${fmt(report.emitUs.max, 0)} µs`,
  );
  console.log(
    `producer: ${deliveredToKafka(report)} acknowledged by Kafka in ${producer.batchesSent} batches, ${producer.spooled} through the spool, ` +
      `send latency p50 ${fmt(producer.sendLatency.p50Ms)} ms / p99 ${fmt(producer.sendLatency.p99Ms)} ms; ` +
      `emitting took ${fmt(emitS, 2)} s (${fmt(report.accepted / emitS, 0)} records/s)`,
  );
  const undelivered = report.accepted - deliveredToKafka(report);
  if (undelivered > 0) {
    const drops = Object.entries(producer.dropped)
      .filter(([, n]) => n > 0)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(", ");
    console.log(
      `producer: ${undelivered} accepted records never reached Kafka (dropped: ${drops || "none"}; ` +
        `${producer.spoolBytes} bytes left in the spool at close): the offered rate overran the producer`,
    );
  }
  console.log(
    `sustained: ${fmt(eventsPerS, 0)} events/s (first emit → all ${report.accepted} queryable in ${fmt(wallS, 2)} s)`,
  );
  console.log(
    `emit → queryable (${e2e.count} sentinels; ${polls.count} lookups, p50 ${fmt(polls.p50)} ms / p99 ${fmt(polls.p99)} ms, ` +
      `triggered by the worker's rows counter read every ${pollMs} ms): ` +
      `p50 ${fmt(e2e.p50, 0)} ms, p99 ${fmt(e2e.p99, 0)} ms, max ${fmt(e2e.max, 0)} ms`,
  );
  console.log(
    `worker RSS (worker + embedded ClickHouse): baseline ${fmt(rssBaseline / MB, 0)} MB, peak ${fmt(rssPeak / MB, 0)} MB, ` +
      `growth ${fmt(growthMb, 0)} MB, at the end ${fmt(rssEnd / MB, 0)} MB; at the peak the JS heap held ` +
      `${fmt(peak.heapUsed / MB, 0)} MB (baseline ${fmt(baseline.heapUsed / MB, 0)}) and buffers ${fmt(peak.external / MB, 0)} MB ` +
      `(baseline ${fmt(baseline.external / MB, 0)}); the engine's own tracked memory peaked at ${fmt(enginePeak / MB, 0)} MB`,
  );
  console.log(`consumer lag (records, sampled each second): ${lag.series()}`);
  console.log(
    `CPU: worker+ClickHouse ${fmt(workerCpuS)} s (${fmt(perRecordUs(workerCpuS), 0)} µs/record), ` +
      `agents+producer ${fmt(report.cpuMs / 1000)} s (${fmt(perRecordUs(report.cpuMs / 1000), 0)} µs/record)` +
      (brokerCpuS === null
        ? ""
        : `, broker ${fmt(brokerCpuS)} s (${fmt(perRecordUs(brokerCpuS), 0)} µs/record)`) +
      (machine === null
        ? ""
        : `; the machine (${cores} cores) was busy ${fmt(machine.busy)} of ${fmt(machine.total)} core-s ` +
          `(${fmt((100 * machine.busy) / machine.total, 0)}%), ${fmt(machine.busy - workerCpuS - report.cpuMs / 1000 - (brokerCpuS ?? 0))} s of it other processes`),
  );
  const pipelineCpuS = workerCpuS + report.cpuMs / 1000 + (brokerCpuS ?? 0);
  console.log(
    `CPU-bound ceiling: ${fmt(perRecordUs(pipelineCpuS), 0)} µs of CPU per record end to end, so ${cores} cores ` +
      `to itself would carry at most ~${fmt((cores * report.accepted) / pipelineCpuS, 0)} records/s; ` +
      `the worker side alone (${fmt(perRecordUs(workerCpuS), 0)} µs) ~${fmt(report.accepted / workerCpuS, 0)} per core`,
  );
  console.log(
    `worker: ClickHouse insert calls ${fmt(allInserts.seconds)} s (one engine session runs them one at a time), ` +
      `event-loop delay p99 ${fmt(loopDelay.percentile(99) / 1e6)} ms, max ${fmt(loopDelay.max / 1e6)} ms`,
  );
  for (const t of delivery.tables) {
    const insert = inserts.find((i) => i.table === t.table);
    console.log(
      `  ${t.table.padEnd(20)} rows ${String(t.rows).padStart(8)}  uniq(event_id) ${String(t.uniqueIds).padStart(8)}  ` +
        `stored ${String(t.storedRows).padStart(8)}  | ${insert?.batches ?? 0} inserts, ` +
        `avg ${fmt((insert?.rows ?? 0) / (insert?.batches ?? 1), 0)} rows, ${fmt((1000 * (insert?.seconds ?? 0)) / (insert?.batches ?? 1), 0)} ms each`,
    );
  }
  console.log(
    `delivery: accepted ${delivery.accepted} (unique ${delivery.acceptedUnique}), in ClickHouse ${delivery.inClickHouse}, ` +
      `lost ${delivery.lost}, duplicates ${delivery.duplicates}, unexpected ${delivery.unexpected}`,
  );
  if (direct !== null) {
    console.log(
      `direct insert (same rows, batches of ${batchRows}, ${worker.config.maxConcurrentInserts} at once, no Kafka): ` +
        `${direct.rows} rows in ${fmt(direct.insertSeconds, 2)} s = ${fmt(direct.rowsPerS, 0)} rows/s; ` +
        `end-to-end is ${fmt(ratio ?? Number.NaN, 2)}× of it`,
    );
  }
  if (profileDir !== undefined) {
    await new Promise<void>((resolve) =>
      agents!.child.exitCode === null ? agents!.child.once("exit", () => resolve()) : resolve(),
    );
    for (const file of profilesIn(profileDir)) {
      console.log(`CPU profile ${file} (self time over the run):`);
      for (const line of topSelfTime(file)) console.log(`  ${line}`);
    }
  }
  const bad = timedOut || delivery.lost + delivery.duplicates + delivery.unexpected > 0;
  exitCode = bad ? 1 : 0;
  console.log(
    JSON.stringify({
      events_per_s: Math.round(eventsPerS),
      emit_p50_us: round(report.emitUs.p50, 2),
      emit_p99_us: round(report.emitUs.p99, 2),
      e2e_p50_ms: round(e2e.p50),
      e2e_p99_ms: round(e2e.p99),
      sentinels_missing: watch.outstanding,
      worker_rss_baseline_mb: Math.round(rssBaseline / MB),
      worker_rss_peak_mb: Math.round(rssPeak / MB),
      worker_rss_growth_mb: Math.round(growthMb),
      lost: delivery.lost,
      duplicates: delivery.duplicates,
      unexpected: delivery.unexpected,
      accepted: delivery.accepted,
      traces: report.traces,
      lag_max: lag.max(),
      direct_rows_per_s: direct === null ? null : Math.round(direct.rowsPerS),
      ratio_vs_direct_insert: ratio === null ? null : Number(ratio.toFixed(3)),
    }),
  );
} catch (error) {
  console.error(`load: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  clearInterval(rssTimer);
  if (agents !== undefined && agents.child.exitCode === null) agents.child.kill("SIGTERM");
  await watch.stop();
  await lag.stop();
  await monitor.close();
  await pipeline.close().catch((error: unknown) => console.error(`load: cleanup: ${String(error)}`));
  rmSync(scratch, { recursive: true, force: true });
}
process.exitCode = exitCode;
setTimeout(() => process.exit(exitCode), 5000).unref();
