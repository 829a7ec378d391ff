import type { Logger } from "@tracehouse/schemas";
import type { PartitionLedger } from "../PartitionLedger.js";
import type { PartitionOffsets } from "../PartitionOffsets.js";
import { groupByTopic, partitionKey } from "../source.js";
import type { TopicPartitions } from "../source.js";
import type { WorkerMetrics } from "../WorkerMetrics.js";
import type { BatchStep } from "./batch.js";
import type { InsertStep } from "./insert.js";
import type { Occupancy, Step } from "./step.js";

export interface BackpressureLimits {
  readonly maxBufferedBytes: number;
  readonly maxPendingBatches: number;
}

/** How the backpressure step stops and restarts fetching. */
export interface FetchControls {
  pause(partitions: readonly TopicPartitions[]): void;
  resume(partitions: readonly TopicPartitions[]): void;
}

/**
 * The backpressure step: pauses every partition while the records held reach `maxBufferedBytes`
 * (resuming below half of it), and the partitions of the topics feeding a key with
 * `maxPendingBatches` batches waiting; over the byte limit with nothing sealed, it seals the largest
 * batch. Once draining (the consumer stops) nothing is resumed.
 */
export class BackpressureStep implements Step {
  readonly #paused = new Map<string, PartitionOffsets>();
  #overBytes = false;
  #draining = false;

  constructor(
    private readonly limits: BackpressureLimits,
    private readonly ledger: PartitionLedger,
    private readonly occupancy: Occupancy,
    private readonly batch: BatchStep,
    private readonly insert: Pick<InsertStep, "idle" | "backedUpTopics">,
    private readonly controls: FetchControls,
    private readonly metrics: WorkerMetrics,
    private readonly logger: Logger,
  ) {}

  get pausedPartitions(): number {
    return this.#paused.size;
  }

  /** Re-evaluates what to pause and resume, after records were taken or written. */
  submit(): void {
    const { maxBufferedBytes, maxPendingBatches } = this.limits;
    const bytes = this.occupancy.bytes;
    const overBytes = this.#overBytes ? bytes > maxBufferedBytes / 2 : bytes >= maxBufferedBytes;
    this.#overBytes = overBytes;
    // Over the limit with only open batches holding the bytes: insert the largest.
    if (overBytes && this.insert.idle) this.batch.sealLargest();
    const backedUpTopics = this.insert.backedUpTopics(maxPendingBatches);
    const pause: PartitionOffsets[] = [];
    const resume: PartitionOffsets[] = [];
    for (const offsets of this.ledger.all()) {
      const key = partitionKey(offsets.topic, offsets.partition);
      const wanted = overBytes || backedUpTopics.has(offsets.topic);
      const paused = this.#paused.has(key);
      if (wanted && !paused) {
        this.#paused.set(key, offsets);
        pause.push(offsets);
      } else if (!wanted && paused && !this.#draining) {
        this.#paused.delete(key);
        resume.push(offsets);
      }
    }
    if (pause.length > 0) {
      this.logger.debug("pausing partitions: batches are piling up", {
        partitions: pause.length,
        bufferedBytes: bytes,
      });
      this.controls.pause(groupByTopic(pause));
    }
    if (resume.length > 0) this.controls.resume(groupByTopic(resume));
    this.metrics.pausedPartitions.set(this.#paused.size);
  }

  /** Partitions no longer assigned: resumed (so the consumer forgets them) and forgotten. */
  revoked(revoked: readonly PartitionOffsets[]): void {
    const resumed = revoked.filter((offsets) =>
      this.#paused.delete(partitionKey(offsets.topic, offsets.partition)),
    );
    if (resumed.length > 0) this.controls.resume(groupByTopic(resumed));
    this.metrics.pausedPartitions.set(this.#paused.size);
  }

  /** Pauses again every partition it paused (a restarted consumer forgets them). */
  reapply(): void {
    if (this.#paused.size > 0) this.controls.pause(groupByTopic(this.#paused.values()));
  }

  poll(): void {
    this.metrics.bufferedRows.set(this.occupancy.rows);
    this.metrics.bufferedBytes.set(this.occupancy.bytes);
  }

  /** No partition is resumed from now on: the consumer is stopping. */
  join(): Promise<void> {
    this.#draining = true;
    return Promise.resolve();
  }
}
