import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

const PREFIX = "tracehouse_worker_";
const RATE_WINDOW_MS = 10_000;

/** Counts over a sliding window of one-second slots, for the per-second gauges. */
class RateWindow {
  readonly #slots = new Map<number, number>();

  add(count: number, now = Date.now()): void {
    const slot = Math.floor(now / 1000);
    this.#slots.set(slot, (this.#slots.get(slot) ?? 0) + count);
  }

  perSecond(now = Date.now()): number {
    const oldest = Math.floor((now - RATE_WINDOW_MS) / 1000);
    let total = 0;
    for (const [slot, count] of this.#slots) {
      if (slot <= oldest) this.#slots.delete(slot);
      else total += count;
    }
    return total / (RATE_WINDOW_MS / 1000);
  }
}

/** The worker's Prometheus metrics, in one registry. */
export class WorkerMetrics {
  readonly registry: Registry;
  readonly records: Counter<"topic" | "outcome">;
  readonly rows: Counter<"table">;
  readonly deadLetters: Counter<"topic" | "reason">;
  readonly retries: Counter<"operation">;
  readonly commits: Counter;
  readonly rebalances: Counter;
  readonly batchRows: Histogram<"table">;
  readonly insertSeconds: Histogram<"table">;
  readonly lag: Gauge<"topic" | "partition">;
  readonly pausedPartitions: Gauge;
  readonly bufferedRows: Gauge;
  readonly bufferedBytes: Gauge;
  readonly #recordRate = new RateWindow();
  readonly #rowRates = new Map<string, RateWindow>();

  constructor(registry: Registry | null) {
    this.registry = registry ?? new Registry();
    if (registry === null) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.records = new Counter({
      name: `${PREFIX}records_total`,
      help: "Records consumed, by outcome: written, dead_lettered, skipped (table not selected)",
      labelNames: ["topic", "outcome"],
      registers,
    });
    this.rows = new Counter({
      name: `${PREFIX}rows_total`,
      help: "Rows inserted into ClickHouse",
      labelNames: ["table"],
      registers,
    });
    this.deadLetters = new Counter({
      name: `${PREFIX}dead_letters_total`,
      help: "Records sent to the dead-letter topic, by reason",
      labelNames: ["topic", "reason"],
      registers,
    });
    this.retries = new Counter({
      name: `${PREFIX}retries_total`,
      help: "Retries of transient failures, by operation: insert, commit, dead_letter",
      labelNames: ["operation"],
      registers,
    });
    this.commits = new Counter({ name: `${PREFIX}commits_total`, help: "Offset commits", registers });
    this.rebalances = new Counter({
      name: `${PREFIX}rebalances_total`,
      help: "Group joins (the first one included)",
      registers,
    });
    this.batchRows = new Histogram({
      name: `${PREFIX}batch_rows`,
      help: "Rows per insert",
      labelNames: ["table"],
      buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000],
      registers,
    });
    this.insertSeconds = new Histogram({
      name: `${PREFIX}insert_duration_seconds`,
      help: "Insert latency, retries included",
      labelNames: ["table"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.lag = new Gauge({
      name: `${PREFIX}consumer_lag`,
      help: "Records between the last fetched offset and the partition's high watermark",
      labelNames: ["topic", "partition"],
      registers,
    });
    this.pausedPartitions = new Gauge({
      name: `${PREFIX}paused_partitions`,
      help: "Partitions paused by backpressure",
      registers,
    });
    this.bufferedRows = new Gauge({
      name: `${PREFIX}buffered_rows`,
      help: "Rows buffered, queued or being inserted",
      registers,
    });
    this.bufferedBytes = new Gauge({
      name: `${PREFIX}buffered_bytes`,
      help: "Record bytes buffered, queued or being inserted",
      registers,
    });
    const recordRate = this.#recordRate;
    new Gauge({
      name: `${PREFIX}records_per_second`,
      help: "Records handled per second over the last 10 s",
      registers,
      collect() {
        this.set(recordRate.perSecond());
      },
    });
    const rowRates = this.#rowRates;
    new Gauge({
      name: `${PREFIX}rows_per_second`,
      help: "Rows inserted per second over the last 10 s",
      labelNames: ["table"],
      registers,
      collect() {
        for (const [table, rate] of rowRates) this.set({ table }, rate.perSecond());
      },
    });
  }

  recordsHandled(topic: string, outcome: "written" | "dead_lettered" | "skipped", count: number): void {
    if (count === 0) return;
    this.records.inc({ topic, outcome }, count);
    this.#recordRate.add(count);
  }

  rowsInserted(table: string, count: number, seconds: number): void {
    this.rows.inc({ table }, count);
    this.batchRows.observe({ table }, count);
    this.insertSeconds.observe({ table }, seconds);
    let rate = this.#rowRates.get(table);
    if (rate === undefined) {
      rate = new RateWindow();
      this.#rowRates.set(table, rate);
    }
    rate.add(count);
  }
}
