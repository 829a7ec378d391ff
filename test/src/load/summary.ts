// What the load benchmark prints at the end: its figures as text, then as one JSON line.
import type { ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import type { IntervalHistogram } from "node:perf_hooks";
import { distribution } from "../harness/index.js";
import type { DeliveryCheck } from "./clickhouse-checks.js";
import { profilesIn, topSelfTime } from "./cpu-profile.js";
import type { DirectInsertResult } from "./direct-insert.js";
import type { LagSampler } from "./lag.js";
import type { AgentReport } from "./protocol.js";
import type { SentinelWatch } from "./SentinelWatch.js";
import type { insertTotals } from "./worker-metrics.js";

const MB = 1024 * 1024;

/** Everything the run measured, for {@link printSummary}. */
export interface LoadFigures {
  readonly report: AgentReport;
  readonly delivery: DeliveryCheck;
  readonly direct: DirectInsertResult | null;
  /** Wall-clock ms when every accepted record was queryable (NaN when never). */
  readonly allQueryableAtMs: number;
  readonly watch: SentinelWatch;
  readonly lag: LagSampler;
  readonly memory: {
    readonly baseline: NodeJS.MemoryUsage;
    readonly peak: NodeJS.MemoryUsage;
    readonly rssEnd: number;
    readonly enginePeak: number;
  };
  readonly cpu: {
    readonly workerS: number;
    /** CPU µs per record of the worker process's thread groups (see threadGroupsCpuNs). */
    readonly workerThreads: Record<string, number>;
    readonly brokerS: number | null;
    readonly machine: { readonly busy: number; readonly total: number } | null;
  };
  readonly inserts: Awaited<ReturnType<typeof insertTotals>>;
  readonly loopDelay: IntervalHistogram;
  readonly batchRows: number;
  readonly maxConcurrentInserts: number;
  readonly pollMs: number;
  readonly profileDir: string | undefined;
  readonly agentsChild: ChildProcess;
}

/** Records of this run that Kafka acknowledged. */
export function deliveredToKafka(report: AgentReport): number {
  return report.producer.sent - report.producer.recovered;
}

function fmt(value: number | null, digits = 1): string {
  return value !== null && Number.isFinite(value) ? value.toFixed(digits) : "n/a";
}

/** `value` rounded to `digits` decimals, null kept (a figure that could not be measured). */
function round(value: number | null, digits = 0): number | null {
  return value === null || !Number.isFinite(value) ? null : Number(value.toFixed(digits));
}

/** Prints the figures, the JSON line last. */
export async function printSummary(figures: LoadFigures): Promise<void> {
  const { report, delivery, direct, allQueryableAtMs, watch, lag, inserts, loopDelay } = figures;
  const { batchRows, pollMs, profileDir } = figures;
  const { baseline, peak, rssEnd, enginePeak } = figures.memory;
  const rssBaseline = baseline.rss;
  const workerCpuS = figures.cpu.workerS;
  const brokerCpuS = figures.cpu.brokerS;
  const machine = figures.cpu.machine;
  const cores = availableParallelism();
  const allInserts = inserts.find((t) => t.table === "all")!;
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
  console.log(
    `worker+ClickHouse CPU by thread, µs/record (main: the worker's JavaScript; Unknown: the engine's inserts; ` +
      `MergeMutate: its merges; node: libuv and V8's GC helpers): ` +
      Object.entries(figures.cpu.workerThreads)
        .map(([name, us]) => `${name} ${us}`)
        .join(", "),
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
      `direct insert (same rows, batches of ${batchRows}, ${figures.maxConcurrentInserts} at once, no Kafka): ` +
        `${direct.rows} rows in ${fmt(direct.insertSeconds, 2)} s = ${fmt(direct.rowsPerS, 0)} rows/s; ` +
        `end-to-end is ${fmt(ratio ?? Number.NaN, 2)}× of it`,
    );
  }
  if (profileDir !== undefined) {
    await new Promise<void>((resolve) =>
      figures.agentsChild.exitCode === null ? figures.agentsChild.once("exit", () => resolve()) : resolve(),
    );
    for (const file of profilesIn(profileDir)) {
      console.log(`CPU profile ${file} (self time over the run):`);
      for (const line of topSelfTime(file)) console.log(`  ${line}`);
    }
  }
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
      worker_cpu_us_per_record_by_thread: figures.cpu.workerThreads,
    }),
  );
}
