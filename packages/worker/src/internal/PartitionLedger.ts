import { PartitionOffsets } from "./PartitionOffsets.js";
import { partitionKey } from "./source.js";
import type { CommitOffset } from "./steps/step.js";

/** The offsets of every partition the chain handles, from its first batch after being assigned. */
export class PartitionLedger {
  readonly #partitions = new Map<string, PartitionOffsets>();

  /** The offsets of a partition, tracked from its first batch after being assigned. */
  get(topic: string, partition: number): PartitionOffsets {
    const key = partitionKey(topic, partition);
    let offsets = this.#partitions.get(key);
    if (offsets === undefined) {
      offsets = new PartitionOffsets(topic, partition);
      this.#partitions.set(key, offsets);
    }
    return offsets;
  }

  /** Some partition of these topics had records waiting in Kafka after its last fetch. */
  lagging(topics: ReadonlySet<string>): boolean {
    for (const offsets of this.#partitions.values())
      if (offsets.lag > 0 && topics.has(offsets.topic)) return true;
    return false;
  }

  all(): readonly PartitionOffsets[] {
    return [...this.#partitions.values()];
  }

  /**
   * A new assignment after a rebalance: partitions no longer owned are retired (their late
   * completions commit nothing) and returned; for the ones kept, `seeks` says where fetching must
   * continue so that records taken before the rebalance are not fetched twice.
   */
  reassign(assigned: ReadonlyMap<string, ReadonlySet<number>>): {
    seeks: CommitOffset[];
    revoked: PartitionOffsets[];
  } {
    const seeks: CommitOffset[] = [];
    const revoked: PartitionOffsets[] = [];
    for (const [key, offsets] of this.#partitions) {
      if (assigned.get(offsets.topic)?.has(offsets.partition) === true) {
        if (offsets.end >= 0) {
          seeks.push({ topic: offsets.topic, partition: offsets.partition, offset: String(offsets.end) });
        }
        continue;
      }
      offsets.retire();
      this.#partitions.delete(key);
      revoked.push(offsets);
    }
    return { seeks, revoked };
  }

  /** The offset of every partition that can be committed further. */
  committable(): CommitOffset[] {
    const offsets: CommitOffset[] = [];
    for (const partition of this.#partitions.values()) {
      const offset = partition.toCommit();
      if (offset !== null)
        offsets.push({ topic: partition.topic, partition: partition.partition, offset: String(offset) });
    }
    return offsets;
  }

  committed(offsets: readonly CommitOffset[]): void {
    for (const { topic, partition, offset } of offsets) {
      this.#partitions.get(partitionKey(topic, partition))?.committedAt(Number(offset));
    }
  }
}
