import type { Worker } from "@tracehouse/worker";

export interface InsertTotals {
  readonly table: string;
  readonly batches: number;
  readonly rows: number;
  /** Time spent in insert calls (retries included; concurrent inserts both count). */
  readonly seconds: number;
}

type MetricValues = readonly { metricName?: string; value: number; labels: Record<string, unknown> }[];

/** Inserts per table and over all tables, from a worker's Prometheus histograms. */
export async function insertTotals(worker: Worker): Promise<InsertTotals[]> {
  const registry = worker.registry;
  const duration = (await registry.getSingleMetric("tracehouse_worker_insert_duration_seconds")?.get())
    ?.values as MetricValues | undefined;
  const rows = (await registry.getSingleMetric("tracehouse_worker_batch_rows")?.get())?.values as
    MetricValues | undefined;
  const sum = (values: MetricValues | undefined, suffix: string, table: string | null): number =>
    (values ?? [])
      .filter((v) => v.metricName?.endsWith(suffix) && (table === null || v.labels["table"] === table))
      .reduce((total, v) => total + v.value, 0);
  const tables = [...new Set((duration ?? []).map((v) => String(v.labels["table"])))];
  return [...tables, null].map((table) => ({
    table: table ?? "all",
    batches: sum(duration, "_count", table),
    rows: sum(rows, "_sum", table),
    seconds: sum(duration, "_sum", table),
  }));
}

/** Rows the worker has inserted so far per table (its `rows_total` counter): cheap enough to read every few ms. */
export async function rowsWritten(worker: Worker): Promise<Map<string, number>> {
  const metric = await worker.registry.getSingleMetric("tracehouse_worker_rows_total")?.get();
  const rows = new Map<string, number>();
  for (const { labels, value } of metric?.values ?? []) {
    const table = String(labels["table"]);
    rows.set(table, (rows.get(table) ?? 0) + value);
  }
  return rows;
}
