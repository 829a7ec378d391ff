import { setTimeout as sleep } from "node:timers/promises";
import type { RecordTable, Sink } from "@tracehouse/clickhouse";
import { wallClockMs } from "../harness/index.js";
import type { Sentinel } from "./protocol.js";

/**
 * Columns of each table's sorting key (time bucket left out) that a sentinel carries, so a
 * lookup is a primary-key range read instead of a scan: polling must not load the engine it
 * measures.
 */
export const SENTINEL_KEY_COLUMNS: { readonly [T in RecordTable]: readonly string[] } = {
  agent_executions: ["agent_name", "execution_id", "event_id"],
  agent_events: ["trace_id", "event_id"],
  performance_metrics: ["agent_name", "execution_id", "event_id"],
  trace_correlations: ["trace_id", "event_id"],
  error_logs: ["trace_id", "event_id"],
  spans: ["trace_id", "span_id", "event_id"],
};

/** Sentinels of one table looked up by one query at most. */
const MAX_LOOKUP = 500;

function literal(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

export interface SentinelWatchOptions {
  /** Per table, a counter that grows when rows may have become visible there (the worker's rows written). */
  readonly progress: () => Promise<ReadonlyMap<string, number>>;
  /** How often `progress` is read; a change triggers a lookup in that table. */
  readonly triggerMs: number;
  /** Look every table up at least this often while sentinels are outstanding. */
  readonly fallbackMs: number;
}

/**
 * Looks sentinel records up in ClickHouse until each is queryable. A table is looked up as soon as
 * the worker's rows-written counter of that table moves (read every `triggerMs`), and every
 * table every `fallbackMs` anyway, so the engine being measured sees about one small query per
 * insert, not a busy loop. A
 * sentinel found by a query counts as queryable when that query started (the snapshot it read):
 * each latency is an upper bound, late by at most `triggerMs` plus the counter's own lag.
 */
export class SentinelWatch {
  /** Emit → queryable, milliseconds. */
  readonly latenciesMs: number[] = [];
  /** Duration of each poll query, milliseconds. */
  readonly pollMs: number[] = [];
  /** Poll queries that failed (the sentinels are looked for again on the next round). */
  failedPolls = 0;
  readonly #outstanding = new Map<string, Sentinel>();
  #running = false;
  #loop: Promise<void> | null = null;

  constructor(
    private readonly sink: Sink,
    private readonly database: string,
    private readonly options: SentinelWatchOptions,
  ) {}

  get outstanding(): number {
    return this.#outstanding.size;
  }

  add(sentinels: readonly Sentinel[]): void {
    for (const sentinel of sentinels) this.#outstanding.set(sentinel.eventId, sentinel);
  }

  start(): void {
    this.#running = true;
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    this.#loop = null;
  }

  async #run(): Promise<void> {
    let seen = await this.options.progress();
    let lastFallback = performance.now();
    while (this.#running) {
      const progress = await this.options.progress();
      const fallback = performance.now() - lastFallback >= this.options.fallbackMs;
      const tables = new Set<string>();
      for (const [table, rows] of progress) if (rows !== seen.get(table) || fallback) tables.add(table);
      seen = progress;
      if (fallback) lastFallback = performance.now();
      if ((tables.size > 0 || fallback) && this.#outstanding.size > 0) {
        try {
          await this.#poll(fallback ? null : tables);
        } catch {
          this.failedPolls++;
        }
      }
      await sleep(this.options.triggerMs);
    }
  }

  /** Looks the outstanding sentinels of `tables` (null: all tables) up. */
  async #poll(tables: ReadonlySet<string> | null): Promise<void> {
    const byTable = new Map<RecordTable, Sentinel[]>();
    for (const sentinel of this.#outstanding.values()) {
      if (tables !== null && !tables.has(sentinel.table)) continue;
      // Oldest first (arrival order): when the pipeline is far behind, newer ones cannot be there yet.
      if ((byTable.get(sentinel.table)?.length ?? 0) >= MAX_LOOKUP) continue;
      let list = byTable.get(sentinel.table);
      if (list === undefined) byTable.set(sentinel.table, (list = []));
      list.push(sentinel);
    }
    const sql = [...byTable]
      .map(([table, list]) => {
        const where = SENTINEL_KEY_COLUMNS[table]
          .map((column) => {
            const values = new Set(list.map((s) => literal(s.keys[column] ?? "")));
            return `${column} IN (${[...values].join(",")})`;
          })
          .join(" AND ");
        return `SELECT event_id FROM ${this.database}.${table} WHERE ${where}`;
      })
      .join(" UNION ALL ");
    if (sql === "") return;
    const startedAt = wallClockMs();
    const clock = performance.now();
    const rows = await this.sink.query<{ event_id: string }>(`${sql} SETTINGS max_threads = 1`);
    this.pollMs.push(performance.now() - clock);
    for (const { event_id: eventId } of rows) {
      const sentinel = this.#outstanding.get(eventId);
      if (sentinel === undefined) continue;
      this.#outstanding.delete(eventId);
      this.latenciesMs.push(startedAt - sentinel.emittedAtMs);
    }
  }
}
