import { createWorker, WorkerState } from "@tracehouse/worker";
import type { Worker, WorkerOptions } from "@tracehouse/worker";
import { pollUntil } from "./poll.js";

export interface StartWorkerOptions {
  /** How long the worker may take to join its group and get partitions. Default: 60000. */
  readonly joinTimeoutMs?: number;
}

/** Records consumed and rows written by a worker, from its Prometheus counters. */
export interface WorkerCounts {
  /** Records consumed and written to ClickHouse. */
  readonly written: number;
  readonly deadLettered: number;
  /** Rows inserted, over all tables. */
  readonly rows: number;
  readonly commits: number;
}

/**
 * Creates and starts a worker in this process and waits until it has joined its consumer group and
 * holds partitions. A worker that fails meanwhile makes this throw with its error; a worker that
 * does not join in time is stopped before this throws.
 */
export async function startWorker(options: WorkerOptions, start: StartWorkerOptions = {}): Promise<Worker> {
  const worker = createWorker(options);
  try {
    await worker.start();
    await pollUntil(
      () => {
        const status = worker.status();
        if (status.state === WorkerState.Failed) throw new Error(`worker failed: ${status.error}`);
        return status.joined && status.assignment.length > 0 ? true : undefined;
      },
      {
        what: `worker ${worker.config.groupId} to join and be assigned partitions`,
        timeoutMs: start.joinTimeoutMs,
        intervalMs: 25,
        describe: () => JSON.stringify(worker.status()),
      },
    );
    return worker;
  } catch (error) {
    await worker.stop().catch(() => undefined);
    throw error;
  }
}

export async function workerCounts(worker: Worker): Promise<WorkerCounts> {
  const metrics = await worker.registry.getMetricsAsJSON();
  const total = (name: string, match: (labels: Record<string, unknown>) => boolean = () => true): number => {
    const metric = metrics.find((m) => m.name === name);
    if (metric === undefined || !("values" in metric)) return 0;
    return (metric.values as { value: number; labels: Record<string, unknown> }[])
      .filter((v) => match(v.labels))
      .reduce((sum, v) => sum + v.value, 0);
  };
  return {
    written: total("tracehouse_worker_records_total", (labels) => labels["outcome"] === "written"),
    deadLettered: total("tracehouse_worker_dead_letters_total"),
    rows: total("tracehouse_worker_rows_total"),
    commits: total("tracehouse_worker_commits_total"),
  };
}
