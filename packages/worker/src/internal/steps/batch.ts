import { EncodedRows } from "@tracehouse/clickhouse";
import type { RecordTable, Row } from "@tracehouse/clickhouse";
import type { SourceRef } from "../source.js";
import { partitionKey } from "../source.js";
import { batchKey } from "./batch-key.js";
import type { Occupancy, Step } from "./step.js";

/** Rows of one table and partition month (and, for bounded ranges, one Kafka partition). */
export interface TableBatch {
  /** The batch key ({@link batchKey}): one insert at a time per key. */
  readonly key: string;
  readonly table: RecordTable;
  /** Encoded as they arrive: a batch holds no row objects while it fills and waits. */
  readonly rows: EncodedRows;
  readonly sources: SourceRef[];
  bytes: number;
  readonly openedAt: number;
  /** When its last row joined it. */
  lastRowAt: number;
  /** Topics whose records are in it: the partitions to pause when its key backs up. */
  readonly topics: Set<string>;
}

export interface BatchLimits {
  readonly maxBatchRows: number;
  readonly maxBatchBytes: number;
  readonly flushIntervalMs: number;
}

/** Where sealed batches go: the insert step. */
export interface BatchConsumer {
  submit(batch: TableBatch): void;
}

/** How many flush intervals a batch may wait to fill while its topics lag or its insert could not start. */
const WAITING_INTERVALS = 4;

/**
 * The batch step: rows are gathered per table and partition month (an INSERT never touches more
 * partitions than ClickHouse allows) and sealed when full or by time (see {@link poll}). A batch
 * past its interval waits to fill, for up to four intervals, while `mayWait` says so: its topics
 * lag (a backlog in Kafka), or the insert step could not start it yet (its key's previous insert
 * is running, or every insert slot is busy). So under load a row waits in an open batch that
 * goes on filling, not in a queue of small sealed ones (each insert has a fixed cost in the
 * engine). With
 * `perPartition` (bounded ranges), batches are also per Kafka partition and cut only by size and
 * at the end of the range, never by time: the same range makes the same batches, with the same
 * dedup tokens.
 */
export class BatchStep implements Step {
  readonly #open = new Map<string, TableBatch>();

  constructor(
    private readonly limits: BatchLimits,
    private readonly perPartition: boolean,
    private readonly occupancy: Occupancy,
    private readonly next: BatchConsumer,
    /** This batch, past its flush interval, may wait to fill (see above). */
    private readonly mayWait: (open: TableBatch) => boolean = () => false,
  ) {}

  /** No batch is open. */
  get empty(): boolean {
    return this.#open.size === 0;
  }

  /** Adds a row (`bytes`: what its record weighs); seals its batch when full. */
  add(table: RecordTable, row: Row, source: SourceRef, bytes: number): void {
    const { topic, partition } = source.offsets;
    const key = batchKey(table, row.event_time, this.perPartition ? partitionKey(topic, partition) : null);
    const now = Date.now();
    let open = this.#open.get(key);
    if (open === undefined) {
      open = {
        key,
        table,
        rows: new EncodedRows(table),
        sources: [],
        bytes: 0,
        openedAt: now,
        lastRowAt: now,
        topics: new Set(),
      };
      this.#open.set(key, open);
    }
    open.lastRowAt = now;
    open.topics.add(topic);
    open.rows.add(row);
    open.sources.push(source);
    open.bytes += bytes;
    this.occupancy.rows++;
    this.occupancy.bytes += bytes;
    if (open.rows.length >= this.limits.maxBatchRows || open.bytes >= this.limits.maxBatchBytes) {
      this.#seal(open);
    }
  }

  /**
   * Seals the batches that are due and may not wait (never those of bounded ranges), oldest first.
   * A batch is due after `flushIntervalMs`, or after half of it once no row joined it for a quarter
   * of it: the stream went quiet (a burst ended), so waiting longer would only delay its rows. A
   * key still makes at most two time-sealed inserts per interval, however its rows trickle in.
   */
  poll(now: number): void {
    if (this.perPartition) return;
    const { flushIntervalMs } = this.limits;
    for (const open of this.#open.values()) {
      const age = now - open.openedAt;
      const due =
        age >= flushIntervalMs || (age >= flushIntervalMs / 2 && now - open.lastRowAt >= flushIntervalMs / 4);
      if (due && (age >= WAITING_INTERVALS * flushIntervalMs || !this.mayWait(open))) this.#seal(open);
    }
  }

  /** Seals every open batch. */
  join(): Promise<void> {
    for (const open of this.#open.values()) this.#seal(open);
    return Promise.resolve();
  }

  /** Seals the batches of one Kafka partition: its bounded range is complete. */
  sealPartition(topic: string, partition: number): void {
    const suffix = `\u0000${partitionKey(topic, partition)}`;
    for (const open of this.#open.values()) if (open.key.endsWith(suffix)) this.#seal(open);
  }

  /** Seals the largest open batch (the bytes held are all in open batches); false when none is open. */
  sealLargest(): boolean {
    let largest: TableBatch | undefined;
    for (const open of this.#open.values())
      if (largest === undefined || open.bytes > largest.bytes) largest = open;
    if (largest === undefined) return false;
    this.#seal(largest);
    return true;
  }

  #seal(open: TableBatch): void {
    this.#open.delete(open.key);
    this.next.submit(open);
  }
}
