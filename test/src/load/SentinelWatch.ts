import type { Sink } from "@tracehouse/clickhouse";
import { setTimeout as sleep } from "node:timers/promises";
import { epochMs } from "./protocol.js";
import type { Sentinel } from "./protocol.js";
import { Samples } from "./samples.js";

const ID = /^[0-9a-f-]{16,64}$/i;

/**
 * Polls ClickHouse for sentinel records until each is queryable. A sentinel found by a query
 * counts as queryable when that query started (the snapshot it read), so each latency is an
 * upper bound, off by at most one poll interval plus one query.
 */
export class SentinelWatch {
  /** Emit → queryable, milliseconds. */
  readonly latenciesMs = new Samples();
  /** Duration of each poll query, milliseconds. */
  readonly pollMs = new Samples();
  readonly #outstanding = new Map<string, Sentinel>();
  #running = false;
  #loop: Promise<void> | null = null;

  constructor(
    private readonly sink: Sink,
    private readonly database: string,
    private readonly intervalMs: number,
  ) {}

  get outstanding(): number {
    return this.#outstanding.size;
  }

  add(sentinels: readonly Sentinel[]): void {
    for (const sentinel of sentinels) {
      if (!ID.test(sentinel.eventId) || !ID.test(sentinel.traceId)) {
        throw new Error(`unexpected sentinel ids ${sentinel.eventId} / ${sentinel.traceId}`);
      }
      this.#outstanding.set(sentinel.eventId, sentinel);
    }
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  stop(): Promise<void> {
    this.#running = false;
    return this.#loop ?? Promise.resolve();
  }

  /** Poll queries that failed (retried on the next round). */
  failedPolls = 0;

  async #run(): Promise<void> {
    while (this.#running) {
      if (this.#outstanding.size > 0) {
        try {
          await this.#poll();
        } catch {
          this.failedPolls++;
        }
      }
      await sleep(this.intervalMs);
    }
  }

  async #poll(): Promise<void> {
    const byTable = new Map<string, Sentinel[]>();
    for (const sentinel of this.#outstanding.values()) {
      let list = byTable.get(sentinel.table);
      if (list === undefined) byTable.set(sentinel.table, (list = []));
      list.push(sentinel);
    }
    const sql = [...byTable]
      .map(([table, list]) => {
        const traceIds = [...new Set(list.map((s) => `'${s.traceId}'`))].join(",");
        const eventIds = list.map((s) => `'${s.eventId}'`).join(",");
        return `SELECT event_id FROM ${this.database}.${table} WHERE trace_id IN (${traceIds}) AND event_id IN (${eventIds})`;
      })
      .join(" UNION ALL ");
    const startedAt = epochMs();
    const clock = performance.now();
    const rows = await this.sink.query<{ event_id: string }>(sql);
    this.pollMs.add(performance.now() - clock);
    for (const { event_id: eventId } of rows) {
      const sentinel = this.#outstanding.get(eventId);
      if (sentinel === undefined) continue;
      this.#outstanding.delete(eventId);
      this.latenciesMs.add(startedAt - sentinel.emittedAtMs);
    }
  }
}
