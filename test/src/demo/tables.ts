// The demo's report tables: agents, errors and the pipeline's own figures.
import type { AgentStats, ErrorSummaryRow } from "@tracehouse/clickhouse";
import type { ProducerStats } from "@tracehouse/producer";
import type { ConsumerLag, Distribution, WorkerCounts } from "../harness/index.js";
import { QUERY_POLL_MS, WORKER_FLUSH_INTERVAL_MS } from "./options.js";
import { count, ms, percent, renderTable } from "./report.js";

export function agentTable(stats: readonly AgentStats[]): string {
  return renderTable(
    [
      { header: "agent" },
      { header: "started" },
      { header: "failed" },
      { header: "fail %" },
      { header: "p50" },
      { header: "p95" },
      { header: "p99" },
      { header: "ttft p50" },
      { header: "ttft p95" },
      { header: "llm" },
      { header: "tools" },
      { header: "tokens in/out" },
    ],
    stats.map((s) => [
      s.agentName,
      count(s.started),
      count(s.failures),
      percent(s.failures, s.finished),
      ms(s.latencyMs.p50),
      ms(s.latencyMs.p95),
      ms(s.latencyMs.p99),
      ms(s.timeToFirstTokenMs.p50),
      ms(s.timeToFirstTokenMs.p95),
      ms(s.phases.llmProcessingMs),
      ms(s.phases.toolExecutionMs),
      `${count(s.phases.promptTokens)} / ${count(s.phases.completionTokens)}`,
    ]),
  );
}

export function errorTable(rows: readonly ErrorSummaryRow[]): string {
  return renderTable(
    [
      { header: "agent" },
      { header: "error class", align: "left" },
      { header: "severity", align: "left" },
      { header: "errors" },
      { header: "retriable" },
      { header: "traces" },
      { header: "example", align: "left" },
    ],
    rows.map((row) => [
      row.agentName ?? "–",
      row.errorClass,
      row.severity,
      count(row.errors),
      count(row.retriableErrors),
      count(row.traces),
      row.sampleMessage.length > 48 ? `${row.sampleMessage.slice(0, 47)}…` : row.sampleMessage,
    ]),
  );
}

export interface PipelineFigures {
  readonly producers: readonly { readonly name: string; readonly stats: ProducerStats }[];
  readonly worker: WorkerCounts;
  readonly lag: ConsumerLag;
  readonly latency: Distribution;
}

export function pipelineTable(figures: PipelineFigures): string {
  const dropped = (stats: ProducerStats): number => Object.values(stats.dropped).reduce((a, b) => a + b, 0);
  const producerRows = figures.producers.map(({ name, stats }) => [
    `producer ${name}`,
    `${count(stats.accepted)} emitted, ${count(stats.sent)} sent in ${count(stats.batchesSent)} batches, ` +
      `${count(stats.spooled)} spooled, ${count(dropped(stats))} dropped; ` +
      `send latency p50 ${ms(stats.sendLatency.p50Ms)}, p99 ${ms(stats.sendLatency.p99Ms)}`,
  ]);
  const { worker, lag, latency } = figures;
  return renderTable(
    [{ header: "stage" }, { header: "figures", align: "left" }],
    [
      ...producerRows,
      [
        "worker (in-process)",
        `${count(worker.written)} records written as ${count(worker.rows)} rows, ` +
          `${count(worker.commits)} offset commits, ${count(worker.deadLettered)} dead letters`,
      ],
      ["consumer lag at end", `${count(lag.total)} records over ${lag.partitions.length} partitions`],
      [
        "emit → queryable",
        `p50 ${ms(latency.p50)}, p99 ${ms(latency.p99)}, max ${ms(latency.max)} over ${count(latency.count)} records ` +
          `(worker flush interval ${WORKER_FLUSH_INTERVAL_MS} ms, polled every ${QUERY_POLL_MS} ms)`,
      ],
    ],
  );
}
