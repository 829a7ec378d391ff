import type { PartitionOffsets } from "../PartitionOffsets.js";
import { partitionKey } from "../source.js";
import type { CommitOffset, FetchStep, FetchedBatch } from "./step.js";

/** A partition's range: from `from` (inclusive) to `to` (exclusive). */
export interface OffsetRange {
  readonly topic: string;
  readonly partition: number;
  readonly from: number;
  readonly to: number;
}

/** What the bounded-range step does to the rest of the chain and to the consumer at a range's end. */
export interface RangeControls {
  /** Stop fetching the partition for good. */
  hold(topic: string, partition: number): void;
  /** Seal the partition's batches: nothing more will come. */
  seal(topic: string, partition: number): void;
}

export interface RangeProgress {
  /** Records of the ranges committed so far. */
  readonly records: number;
  readonly total: number;
  readonly partitionsDone: number;
  readonly partitions: number;
}

/**
 * The bounded-range step, in front of the chain for replay and redrive: it cuts fetched batches at
 * each partition's end offset and, when a partition reaches it, holds the partition and seals its
 * batches; a partition is complete once its end offset is committed. `done` resolves when every
 * partition is (at once for empty ranges).
 */
export class BoundedRange implements FetchStep {
  readonly ranges: readonly OffsetRange[];
  readonly done: Promise<void>;
  readonly #ranges = new Map<string, OffsetRange>();
  readonly #held = new Set<string>();
  readonly #pending = new Set<string>();
  #resolve!: () => void;
  #next: FetchStep | null = null;
  #controls: RangeControls | null = null;

  constructor(ranges: readonly OffsetRange[]) {
    this.ranges = ranges;
    this.done = new Promise<void>((resolve) => (this.#resolve = resolve));
    for (const range of ranges) {
      const key = partitionKey(range.topic, range.partition);
      this.#ranges.set(key, range);
      if (range.to > range.from) this.#pending.add(key);
      else this.#held.add(key);
    }
    if (this.#pending.size === 0) this.#resolve();
  }

  /** Places the step in front of `next`; `controls` act at each range's end. */
  bind(next: FetchStep, controls: RangeControls): this {
    this.#next = next;
    this.#controls = controls;
    return this;
  }

  get complete(): boolean {
    return this.#pending.size === 0;
  }

  async submit(batch: FetchedBatch): Promise<void> {
    const { topic, partition } = batch;
    const key = partitionKey(topic, partition);
    const range = this.#ranges.get(key);
    if (range === undefined || this.#held.has(key)) return;
    const end = range.to;
    const messages =
      batch.endOffset > end
        ? batch.messages.filter((message) => Number(message.offset) < end)
        : batch.messages;
    const endOffset = Math.min(batch.endOffset, end);
    await this.#next?.submit({ ...batch, messages, endOffset });
    if (endOffset >= end && !this.#held.has(key)) {
      this.#held.add(key);
      this.#controls?.hold(topic, partition);
      this.#controls?.seal(topic, partition);
    }
  }

  /** Where a newly assigned partition starts; undefined for one outside the ranges or complete. */
  startOf(topic: string, partition: number): number | undefined {
    const key = partitionKey(topic, partition);
    return this.#pending.has(key) ? this.#ranges.get(key)?.from : undefined;
  }

  /** Whether the partition is held: its range was fetched to the end (or is empty, or unknown). */
  isHeld(topic: string, partition: number): boolean {
    const key = partitionKey(topic, partition);
    return this.#held.has(key) || !this.#ranges.has(key);
  }

  /** Held partitions, to pause again after a rebalance. */
  held(): { topic: string; partition: number }[] {
    return [...this.#held].map((key) => {
      const { topic, partition } = this.#ranges.get(key)!;
      return { topic, partition };
    });
  }

  /** Offsets were committed: partitions whose end is reached are complete. */
  committed(offsets: readonly CommitOffset[]): void {
    for (const { topic, partition, offset } of offsets) {
      const key = partitionKey(topic, partition);
      const range = this.#ranges.get(key);
      if (range === undefined || Number(offset) < range.to || !this.#pending.delete(key)) continue;
      if (this.#pending.size === 0) this.#resolve();
    }
  }

  /** Records committed so far, from the committed offsets of the partitions handled. */
  progress(partitions: readonly PartitionOffsets[]): RangeProgress {
    const total = this.ranges.reduce((sum, range) => sum + (range.to - range.from), 0);
    let records = 0;
    if (this.#pending.size === 0) records = total;
    else {
      const committed = new Map(partitions.map((p) => [partitionKey(p.topic, p.partition), p.committed]));
      for (const range of this.ranges) {
        const offset = committed.get(partitionKey(range.topic, range.partition)) ?? -1;
        records += Math.max(0, Math.min(offset, range.to) - range.from);
      }
    }
    return {
      records,
      total,
      partitionsDone: this.ranges.length - this.#pending.size,
      partitions: this.ranges.length,
    };
  }
}
