// End-to-end load benchmark: simulated agents (own process, producer library) → Kafka →
// worker (this process) → ClickHouse (embedded engine in this process). See --help.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { ClickHouseTraceSchema, EmbeddedSink } from "@tracehouse/clickhouse";
import { embeddedDataDir, threadGroupsCpuNs, threadGroupsPerRecord } from "@tracehouse/testkit";
import { openPipeline, wallClockMs } from "../harness/index.js";
import { profileThisProcess } from "./cpu-profile.js";
import { checkDelivery, engineMemory, storedRows } from "./clickhouse-checks.js";
import type { DeliveryCheck } from "./clickhouse-checks.js";
import { directInsert } from "./direct-insert.js";
import type { DirectInsertResult } from "./direct-insert.js";
import { LagSampler } from "./lag.js";
import { parseLoadOptions } from "./options.js";
import { localBrokerPid, machineCpuSeconds, processCpuSeconds } from "./processes.js";
import type { AgentReport } from "./protocol.js";
import { SentinelWatch } from "./SentinelWatch.js";
import { spawnAgents } from "./spawn-agents.js";
import type { AgentsHandle } from "./spawn-agents.js";
import { deliveredToKafka, printSummary } from "./summary.js";
import { insertTotals, rowsWritten } from "./worker-metrics.js";

const {
  traces,
  eventsPerTrace,
  agentCount,
  rate,
  partitions,
  sentinelEvery,
  batchRows,
  flushIntervalMs,
  pollMs,
  compression,
  extraWorkerOptions,
  profileDir,
  timeoutMs,
  ...options
} = parseLoadOptions();
const deadline = Date.now() + timeoutMs;

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
    workerThreads: threadGroupsCpuNs(),
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
  const workerThreadsNs = threadGroupsCpuNs();
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
  await worker.stop();

  const delivery: DeliveryCheck = await checkDelivery(monitor, database, idsFile);
  let direct: DirectInsertResult | null = null;
  if (options.direct) {
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
  await printSummary({
    report,
    delivery,
    direct,
    allQueryableAtMs,
    watch,
    lag,
    memory: { baseline, peak, rssEnd, enginePeak },
    cpu: {
      workerS: workerCpuS,
      workerThreads: threadGroupsPerRecord(cpuBefore.workerThreads, workerThreadsNs, report.accepted),
      brokerS: brokerCpuS,
      machine,
    },
    inserts,
    loopDelay,
    batchRows,
    maxConcurrentInserts: worker.config.maxConcurrentInserts,
    pollMs,
    profileDir,
    agentsChild: agents.child,
  });
  const bad = timedOut || delivery.lost + delivery.duplicates + delivery.unexpected > 0;
  exitCode = bad ? 1 : 0;
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
