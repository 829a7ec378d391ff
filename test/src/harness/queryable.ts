import { TABLE_OF_RECORD_TYPE } from "@tracehouse/clickhouse";
import type { Sink } from "@tracehouse/clickhouse";
import type { RecordType } from "@tracehouse/schemas";
import { pollUntil, wallClockMs } from "./poll.js";

/** A record to look for: its type names the table. */
export interface RecordRef {
  readonly type: RecordType;
  readonly eventId: string;
}

export interface QueryableOptions {
  /** Default: 60000. */
  readonly timeoutMs?: number;
  /** Pause between polls; bounds the resolution of the times returned. Default: 50. */
  readonly intervalMs?: number;
}

const CHUNK = 5000;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls the record tables in the background for the records it is given, and notes, per event id,
 * the wall-clock time (epoch ms) at which the first query that saw it started: the record was
 * queryable by then. Add records as they are emitted to measure emit → queryable latency.
 */
export class QueryableWatch {
  readonly #sink: Sink;
  readonly #intervalMs: number;
  readonly #pending = new Map<string, Set<string>>();
  readonly #seenAt = new Map<string, number>();
  readonly #loop: Promise<void>;
  #stopped = false;
  #failure: unknown = null;

  constructor(sink: Sink, options: Pick<QueryableOptions, "intervalMs"> = {}) {
    this.#sink = sink;
    this.#intervalMs = options.intervalMs ?? 50;
    this.#loop = this.#run();
  }

  /** When each record seen so far was first seen, epoch ms. */
  get seenAt(): ReadonlyMap<string, number> {
    return this.#seenAt;
  }

  /** Records added and not seen yet, per table. */
  pending(): Record<string, number> {
    return Object.fromEntries([...this.#pending].map(([table, ids]) => [table, ids.size]));
  }

  add(records: Iterable<RecordRef>): void {
    for (const record of records) {
      if (this.#seenAt.has(record.eventId)) continue;
      const table = TABLE_OF_RECORD_TYPE[record.type];
      let ids = this.#pending.get(table);
      if (ids === undefined) this.#pending.set(table, (ids = new Set()));
      ids.add(record.eventId);
    }
  }

  /**
   * Adds `records` and resolves once every one of them has been seen. Throws after `timeoutMs`
   * naming how many records of which table are missing, or when polling failed.
   */
  async waitFor(
    records: readonly RecordRef[],
    options: Pick<QueryableOptions, "timeoutMs"> = {},
  ): Promise<ReadonlyMap<string, number>> {
    this.add(records);
    return pollUntil(
      () => {
        if (this.#failure !== null) throw this.#failure;
        if (this.#stopped) throw new Error("the watch was stopped");
        return records.every((record) => this.#seenAt.has(record.eventId)) ? this.#seenAt : undefined;
      },
      {
        what: `${records.length} records to be queryable`,
        timeoutMs: options.timeoutMs,
        intervalMs: Math.min(10, this.#intervalMs),
        describe: () =>
          Object.entries(this.pending())
            .map(([table, missing]) => `${missing} missing from ${table}`)
            .join(", ") || "none missing",
      },
    );
  }

  /** Stops polling; rejects with the error that stopped it early, if any. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    if (this.#failure !== null) throw this.#failure;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.#poll();
      } catch (error) {
        this.#failure = error;
        return;
      }
      await pause(this.#intervalMs);
    }
  }

  /** One query per round over every table with pending records (at most CHUNK ids per table). */
  async #poll(): Promise<void> {
    const { database } = this.#sink;
    const tables = [...this.#pending].filter(([, ids]) => ids.size > 0);
    if (tables.length === 0) return;
    const params: Record<string, string[]> = {};
    const selects = tables.map(([table, ids], i) => {
      const batch: string[] = [];
      for (const id of ids) {
        if (batch.length === CHUNK) break;
        batch.push(id);
      }
      params[`ids${i}`] = batch;
      return `SELECT event_id, ${i} AS t FROM ${database}.${table} WHERE event_id IN {ids${i}:Array(String)}`;
    });
    const startedAt = wallClockMs();
    const rows = await this.#sink.query<{ event_id: string; t: number }>(selects.join(" UNION ALL "), params);
    for (const { event_id, t } of rows) {
      const entry = tables[Number(t)];
      if (entry !== undefined && entry[1].delete(event_id)) this.#seenAt.set(event_id, startedAt);
    }
    for (const [table, ids] of tables) if (ids.size === 0) this.#pending.delete(table);
  }
}

/** Waits until every record in `records` can be read; returns when each was first seen (epoch ms). */
export async function waitUntilQueryable(
  sink: Sink,
  records: readonly RecordRef[],
  options: QueryableOptions = {},
): Promise<ReadonlyMap<string, number>> {
  const watch = new QueryableWatch(sink, { intervalMs: options.intervalMs });
  watch.add(records);
  try {
    return await watch.waitFor(records, { timeoutMs: options.timeoutMs });
  } finally {
    await watch.stop();
  }
}
