import type { Worker } from "@tracehouse/worker";

type Registry = Worker["registry"];

export interface InsertTotals {
  /** Time spent in insert calls (summed over concurrent inserts, retries included). */
  readonly seconds: number;
  readonly rows: number;
  readonly batches: number;
}

function sumOf(values: readonly { metricName?: string; value: number }[], suffix: string): number {
  return values.filter((v) => v.metricName?.endsWith(suffix)).reduce((sum, v) => sum + v.value, 0);
}

/** Insert time and rows from a worker's Prometheus registry. */
export async function insertSeconds(registry: Registry): Promise<InsertTotals> {
  const duration = await registry.getSingleMetric("tracehouse_worker_insert_duration_seconds")?.get();
  const rows = await registry.getSingleMetric("tracehouse_worker_batch_rows")?.get();
  return {
    seconds: sumOf(duration?.values ?? [], "_sum"),
    batches: sumOf(duration?.values ?? [], "_count"),
    rows: sumOf(rows?.values ?? [], "_sum"),
  };
}
