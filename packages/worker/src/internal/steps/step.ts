import type { Logger } from "@tracehouse/schemas";
import type { KafkaMessage } from "kafkajs";
import type { WorkerMetrics } from "../WorkerMetrics.js";

/** One fetched run of a partition's records, already cut to what should be handled. */
export interface FetchedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly KafkaMessage[];
  /** The offset after the last record the fetch covered (filtered control records included). */
  readonly endOffset: number;
  readonly highWatermark: number;
}

/** A step that takes whole fetched batches: the head of the chain, and what stands in front of it. */
export interface FetchStep {
  /** Resolves once the batch is handed on (and its dead letters are in the dead-letter topic). */
  submit(batch: FetchedBatch): Promise<void>;
}

/**
 * What every step of the chain has, after Arroyo's processing strategies: besides its own `submit`
 * (which hands what it makes to the next step), `poll` does the step's periodic work (flush by time,
 * forget idle state) and `join` finishes what it was given, on shutdown. A join resolves early when
 * the chain failed.
 */
export interface Step {
  poll(now: number): void;
  join(): Promise<void>;
}

export interface CommitOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** What the steps share: metrics, logs, the end of waiting (abandon), and how to stop the chain. */
export interface StepContext {
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  /** Aborted when the chain gives up on what is in flight: retries end, nothing more is committed. */
  readonly signal: AbortSignal;
  /** The error that stopped the chain, or null. */
  readonly failed: Error | null;
  /** The chain cannot go on (dead-letter limit, missing table, retries exhausted). */
  fail(error: unknown): void;
}

/** Promises waiting for a step to settle; each wake re-checks what they wait for. */
export class Waiters {
  readonly #waiting: (() => void)[] = [];

  async until(done: () => boolean): Promise<void> {
    while (!done()) await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  wake(): void {
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}

/** Rows and record bytes between the batch step and the end of their insert. */
export class Occupancy {
  rows = 0;
  bytes = 0;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
