import { InsertFailure, classifyInsertFailure } from "@tracehouse/clickhouse";
import type { EncodedRows, RecordTable, Sink } from "@tracehouse/clickhouse";
import type { RetryPolicy } from "@tracehouse/schemas";
import { DeadLetterReason } from "../../dead-letter.js";
import { RetriesExhaustedError } from "../../errors.js";
import type { DeadLetter } from "../DeadLetterSender.js";
import { retrying } from "../retrying.js";
import type { SourceRef } from "../source.js";
import type { TableBatch } from "./batch.js";
import { dedupToken } from "./batch-key.js";
import type { DeadLetterStep } from "./dead-letter.js";
import type { Occupancy, Step, StepContext } from "./step.js";
import { Waiters, messageOf } from "./step.js";

export interface InsertLimits {
  readonly maxConcurrentInserts: number;
  readonly retry: RetryPolicy;
}

interface KeyQueue {
  readonly queue: TableBatch[];
  inserting: boolean;
  /** Topics whose records went to this key: the partitions to pause when it backs up. */
  readonly topics: Set<string>;
}

/**
 * The insert step: sealed batches wait per key (one insert at a time per table and month), at most
 * `maxConcurrentInserts` run at once, oldest first; the next one waits in the sink, so the engine
 * starts it without waiting for this thread. But a batch "can start" only while the sink runs
 * fewer calls than it can at once (the embedded engine: one per session), and the batch step lets a
 * batch that cannot start go on filling: sealed by age only to wait in the sink, it would be
 * smaller, and each insert costs the engine a fixed amount. A failed insert is retried, and a batch
 * ClickHouse rejects (or keeps failing on under load) is split until its failing rows are found:
 * they go to the dead-letter step, their neighbours are done. An outage or a structural failure
 * stops the chain with the offsets uncommitted.
 */
export class InsertStep implements Step {
  readonly #keys = new Map<string, KeyQueue>();
  readonly #waiters = new Waiters();
  #active = 0;
  #retrying = 0;
  /** Inserts the sink runs at once, at most `maxConcurrentInserts`. */
  readonly #running: number;
  /** Records written since the start. */
  written = 0;

  constructor(
    private readonly context: StepContext,
    private readonly limits: InsertLimits,
    private readonly sink: Sink,
    private readonly deadLetters: DeadLetterStep,
    private readonly occupancy: Occupancy,
    /** After each insert settles: backpressure and commits follow. */
    private readonly settled: () => void,
  ) {
    this.#running = Math.min(limits.maxConcurrentInserts, sink.concurrency);
  }

  /** True while an insert waits to be retried. */
  get retrying(): boolean {
    return this.#retrying > 0;
  }

  /** Nothing queued and nothing being inserted. */
  get idle(): boolean {
    if (this.#active > 0) return false;
    for (const state of this.#keys.values()) if (state.queue.length > 0) return false;
    return true;
  }

  /** A batch of `key` submitted now would start at once: the sink has room and the key has nothing queued or running. */
  canStart(key: string): boolean {
    const state = this.#keys.get(key);
    return (
      this.#active < this.#running &&
      this.context.failed === null &&
      (state === undefined || (!state.inserting && state.queue.length === 0))
    );
  }

  submit(batch: TableBatch): void {
    let state = this.#keys.get(batch.key);
    if (state === undefined) {
      state = { queue: [], inserting: false, topics: new Set() };
      this.#keys.set(batch.key, state);
    }
    for (const topic of batch.topics) state.topics.add(topic);
    state.queue.push(batch);
    this.#pump();
  }

  /** The topics feeding a key with at least `maxPending` batches waiting. */
  backedUpTopics(maxPending: number): Set<string> {
    const topics = new Set<string>();
    for (const state of this.#keys.values())
      if (state.queue.length >= maxPending) for (const topic of state.topics) topics.add(topic);
    return topics;
  }

  /** Batches are per month: forgets the keys that are done. */
  poll(): void {
    for (const [key, state] of this.#keys)
      if (state.queue.length === 0 && !state.inserting) this.#keys.delete(key);
  }

  join(): Promise<void> {
    return this.#waiters.until(() => this.idle || this.context.failed !== null);
  }

  /** Wakes joins (the chain failed). */
  wake(): void {
    this.#waiters.wake();
  }

  #pump(): void {
    while (this.#active < this.limits.maxConcurrentInserts && this.context.failed === null) {
      let next: KeyQueue | undefined;
      for (const state of this.#keys.values()) {
        const head = state.queue[0];
        if (state.inserting || head === undefined) continue;
        if (next === undefined || head.openedAt < next.queue[0]!.openedAt) next = state;
      }
      if (next === undefined) return;
      const batch = next.queue.shift()!;
      next.inserting = true;
      this.#active++;
      void this.#insert(next, batch);
    }
  }

  async #insert(state: KeyQueue, batch: TableBatch): Promise<void> {
    const started = performance.now();
    const { metrics } = this.context;
    try {
      const rejected = await this.#write(batch.table, batch.rows, batch.sources);
      const rejectedSources = new Set(rejected.map((letter) => letter.source));
      metrics.rowsInserted(
        batch.table,
        batch.rows.length - rejected.length,
        (performance.now() - started) / 1000,
      );
      const written = new Map<string, number>();
      for (const source of batch.sources) {
        if (rejectedSources.has(source)) continue;
        source.offsets.markDone(source.offset);
        written.set(source.offsets.topic, (written.get(source.offsets.topic) ?? 0) + 1);
      }
      for (const [topic, count] of written) metrics.recordsHandled(topic, "written", count);
      this.written += batch.sources.length - rejected.length;
      if (rejected.length > 0) await this.deadLetters.submit(rejected);
    } catch (error) {
      if (!this.context.signal.aborted) this.context.fail(error);
    } finally {
      state.inserting = false;
      this.#active--;
      this.occupancy.rows -= batch.rows.length;
      this.occupancy.bytes -= batch.bytes;
      this.#pump();
      this.settled();
      this.#waiters.wake();
    }
  }

  /**
   * Inserts rows; a batch ClickHouse rejects (or keeps failing on under load) is split until the
   * failing rows are found and returned. Halves of a batch whose retries ran out are tried once
   * each: the retries were spent on the whole batch.
   */
  async #write(
    table: RecordTable,
    rows: EncodedRows,
    sources: SourceRef[],
    retries = this.limits.retry.maxRetries,
  ): Promise<DeadLetter[]> {
    try {
      await retrying(
        this.context,
        "insert",
        () => this.sink.insert(table, rows, { dedupToken: dedupToken(table, sources) }),
        {
          policy: { ...this.limits.retry, maxRetries: retries },
          onWaiting: (waiting) => {
            this.#retrying += waiting ? 1 : -1;
          },
        },
      );
      return [];
    } catch (error) {
      // Decided per class (see the README, "Retries and failures"): a row the engine rejects, or a
      // batch the engine keeps failing under load, is split until the rows are found and
      // dead-lettered; an outage (unreachable, network) stops the worker with its offsets
      // uncommitted, since dead-lettering would empty the topics into the dead-letter topic.
      const failure = this.context.signal.aborted ? InsertFailure.Structural : classifyInsertFailure(error);
      if (failure === InsertFailure.Outage) throw new RetriesExhaustedError("insert", retries, error);
      if (failure === InsertFailure.Structural) throw error;
      const exhausted = failure === InsertFailure.Load;
      if (rows.length === 1) {
        return [
          {
            source: sources[0]!,
            message: null,
            row: rows.row(0),
            reason: exhausted ? DeadLetterReason.RetriesExhausted : DeadLetterReason.Rejected,
            error: messageOf(error),
            table,
          },
        ];
      }
      const middle = Math.ceil(rows.length / 2);
      const next = exhausted ? 0 : retries;
      const left = await this.#write(table, rows.slice(0, middle), sources.slice(0, middle), next);
      const right = await this.#write(table, rows.slice(middle), sources.slice(middle), next);
      return [...left, ...right];
    }
  }
}
