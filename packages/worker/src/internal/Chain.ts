import type { Sink } from "@tracehouse/clickhouse";
import type { Logger } from "@tracehouse/schemas";
import type { Kafka } from "kafkajs";
import { groupSettleMs } from "../config.js";
import type { WorkerConfig } from "../config.js";
import { DeadLetterSender } from "./DeadLetterSender.js";
import { PartitionLedger } from "./PartitionLedger.js";
import type { PartitionOffsets } from "./PartitionOffsets.js";
import { BackpressureStep } from "./steps/backpressure.js";
import type { FetchControls } from "./steps/backpressure.js";
import { BatchStep } from "./steps/batch.js";
import type { BoundedRange } from "./steps/bounded-range.js";
import { CommitStep } from "./steps/commit.js";
import { DeadLetterRatioPolicy } from "./steps/dead-letter-policy.js";
import { DeadLetterStep } from "./steps/dead-letter.js";
import type { DeadLetterSink } from "./steps/dead-letter.js";
import { DecodeStep, Decoder } from "./steps/decode.js";
import { InsertStep } from "./steps/insert.js";
import { Projector } from "./steps/project.js";
import { Occupancy } from "./steps/step.js";
import type { CommitOffset, FetchStep, FetchedBatch, StepContext } from "./steps/step.js";
import type { WorkerMetrics } from "./WorkerMetrics.js";
import { WriterSchemaResolver } from "./WriterSchemaResolver.js";

export type ChainConfig = Pick<
  WorkerConfig,
  | "tables"
  | "maxBatchRows"
  | "maxBatchBytes"
  | "flushIntervalMs"
  | "maxBufferedBytes"
  | "maxPendingBatches"
  | "maxConcurrentInserts"
  | "retry"
  | "maxDeadLetterRatio"
  | "deadLetterWindow"
  | "sessionTimeoutMs"
  | "rebalanceTimeoutMs"
>;

/** What the chain needs of the consumer that feeds it. */
export interface ConsumerControls extends FetchControls {
  commit(offsets: readonly CommitOffset[]): Promise<void>;
  /** The chain cannot go on (dead-letter limit, missing table, retries exhausted): stop the consumer. */
  fail(error: Error): void;
  /** Stops fetching a partition for good: its bounded range is fetched. */
  hold(topic: string, partition: number): void;
}

/** The dead-letter sink, with the connection it may hold (the dead-letter producer). */
export type ChainDeadLetters = DeadLetterSink & {
  connect?(): Promise<void>;
  disconnect?(): Promise<void>;
};

export interface ChainOptions {
  readonly config: ChainConfig;
  readonly sink: Sink;
  readonly deadLetters: ChainDeadLetters;
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  readonly writerSchemas?: WriterSchemaResolver | null;
  /** Replay and redrive: the bounded-range step in front (batches per Kafka partition, cut at range ends). */
  readonly range?: BoundedRange | null;
  /** A step between the range and decoding (redrive: dead letters back to their originals). */
  readonly front?: (next: FetchStep) => FetchStep;
}

export interface ChainStats {
  readonly bufferedRows: number;
  readonly bufferedBytes: number;
  readonly pausedPartitions: number;
  /** True while an insert is waiting to be retried. */
  readonly insertRetrying: boolean;
  /** Records handled since the start: written to a table, dead-lettered, or skipped (table not selected). */
  readonly written: number;
  readonly deadLettered: number;
  readonly skipped: number;
}

/**
 * The worker as a chain of steps, composed here and nowhere else:
 * [bounded range →] [front →] decode → project → batch → insert → dead-letter → commit, with the
 * backpressure step watching what is held. The consumer adapter hands fetched batches to `submit`.
 */
export class Chain {
  readonly range: BoundedRange | null;
  readonly #abort = new AbortController();
  readonly #timer: NodeJS.Timeout;
  readonly #context: StepContext;
  readonly #controls: ConsumerControls;
  readonly #ledger = new PartitionLedger();
  readonly #occupancy = new Occupancy();
  readonly #projector: Projector;
  readonly #deadLetterSink: ChainDeadLetters;
  readonly #head: FetchStep;
  readonly #batch: BatchStep;
  readonly #insert: InsertStep;
  readonly #deadLetters: DeadLetterStep;
  readonly #commit: CommitStep;
  readonly #backpressure: BackpressureStep;
  readonly #sink: Sink;
  #failed: Error | null = null;

  constructor(options: ChainOptions, controls: ConsumerControls) {
    const { config, metrics, logger } = options;
    this.#controls = controls;
    this.#sink = options.sink;
    this.#deadLetterSink = options.deadLetters;
    this.range = options.range ?? null;
    const failed = (): Error | null => this.#failed;
    this.#context = {
      metrics,
      logger,
      signal: this.#abort.signal,
      get failed() {
        return failed();
      },
      fail: (error) => this.#fail(error),
    };
    const context = this.#context;
    this.#deadLetters = new DeadLetterStep(
      context,
      options.deadLetters,
      new DeadLetterRatioPolicy(config.deadLetterWindow, config.maxDeadLetterRatio),
      config.retry,
    );
    this.#commit = new CommitStep(
      context,
      this.#ledger,
      { ...config.retry, retryForMs: groupSettleMs(config) },
      (offsets) => controls.commit(offsets),
      (offsets) => this.range?.committed(offsets),
    );
    this.#insert = new InsertStep(context, config, options.sink, this.#deadLetters, this.#occupancy, () =>
      this.#settled(),
    );
    this.#batch = new BatchStep(
      config,
      this.range !== null,
      this.#occupancy,
      this.#insert,
      (open) => this.#ledger.lagging(open.topics) || !this.#insert.canStart(open.key),
    );
    this.#backpressure = new BackpressureStep(
      config,
      this.#ledger,
      this.#occupancy,
      this.#batch,
      this.#insert,
      controls,
      metrics,
      logger,
    );
    this.#projector = new Projector(new Set(config.tables), this.#batch);
    const decode = new DecodeStep(
      context,
      this.#ledger,
      new Decoder(options.writerSchemas ?? null),
      this.#projector,
      this.#deadLetters,
      () => this.#backpressure.submit(),
    );
    const afterRange = options.front?.(decode) ?? decode;
    this.#head =
      this.range?.bind(afterRange, {
        hold: (topic, partition) => controls.hold(topic, partition),
        seal: (topic, partition) => this.#batch.sealPartition(topic, partition),
      }) ?? afterRange;
    // batches are sealed within a twentieth of their interval (50 ms at most) of falling due
    const tickMs = Math.max(5, Math.min(50, Math.floor(config.flushIntervalMs / 20)));
    this.#timer = setInterval(() => this.#poll(), tickMs);
    this.#timer.unref();
  }

  get failed(): Error | null {
    return this.#failed;
  }

  stats(): ChainStats {
    return {
      bufferedRows: this.#occupancy.rows,
      bufferedBytes: this.#occupancy.bytes,
      pausedPartitions: this.#backpressure.pausedPartitions,
      insertRetrying: this.#insert.retrying,
      written: this.#insert.written,
      deadLettered: this.#deadLetters.deadLettered,
      skipped: this.#projector.skipped,
    };
  }

  partitions(): readonly PartitionOffsets[] {
    return this.#ledger.all();
  }

  /**
   * A new assignment after a rebalance: partitions no longer owned are forgotten (their late
   * completions commit nothing); for the ones kept, returns where fetching must continue so that
   * records buffered before the rebalance are not fetched twice.
   */
  reassign(assigned: ReadonlyMap<string, ReadonlySet<number>>): CommitOffset[] {
    const { seeks, revoked } = this.#ledger.reassign(assigned);
    for (const offsets of revoked) {
      this.#deadLetters.forget(offsets.topic, offsets.partition);
      this.#context.metrics.lag.remove({ topic: offsets.topic, partition: String(offsets.partition) });
    }
    this.#backpressure.revoked(revoked);
    return seeks;
  }

  /** No partition is resumed from now on: the consumer is stopping. */
  stopFetching(): void {
    void this.#backpressure.join();
  }

  /** Pauses again every partition paused for backpressure (a restarted client forgets them). */
  reapplyPauses(): void {
    this.#backpressure.reapply();
  }

  /** Reads what the tables keep (their TTL) and connects the dead-letter producer. */
  async start(): Promise<void> {
    await this.#projector.prepare(this.#sink, this.#context.logger);
    await this.#deadLetterSink.connect?.();
  }

  /** Takes one fetched batch; resolves once it is handed on and its dead letters are sent. */
  async submit(batch: FetchedBatch): Promise<void> {
    if (this.#failed !== null) return;
    await this.#head.submit(batch);
    this.#commit.submit();
  }

  /** Seals every open batch, waits until all are inserted and dead letters sent, then commits. */
  async drain(): Promise<void> {
    void this.#backpressure.join();
    await this.#batch.join();
    await this.#insert.join();
    await this.#deadLetters.join();
    if (this.#failed !== null) throw this.#failed;
    await this.#commit.join();
  }

  /** Gives up on everything in flight (shutdown timeout): retries end, nothing more is committed. */
  abandon(): void {
    this.#abort.abort(new Error("worker stopped before its batches were written"));
    this.close();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#wake();
  }

  /** Closes the dead-letter producer. */
  async release(): Promise<void> {
    await this.#deadLetterSink.disconnect?.();
  }

  #poll(): void {
    if (this.#failed !== null) return;
    const now = Date.now();
    this.#batch.poll(now);
    this.#insert.poll();
    this.#backpressure.poll();
    this.#commit.poll();
  }

  #settled(): void {
    // A batch that waited for this insert's slot or key goes now, not at the next tick.
    if (this.#failed === null) this.#batch.poll(Date.now());
    this.#backpressure.submit();
    this.#commit.submit();
  }

  #wake(): void {
    this.#insert.wake();
    this.#deadLetters.wake();
  }

  #fail(error: unknown): void {
    if (this.#failed !== null) return;
    this.#failed = error instanceof Error ? error : new Error(String(error));
    this.#context.logger.error("worker cannot go on", {
      error: this.#failed.message,
      name: this.#failed.name,
    });
    this.#wake();
    this.#controls.fail(this.#failed);
  }
}

/** The resolver of newer writers' schemas, when the worker reads a schemas topic. */
export function writerSchemasFor(config: WorkerConfig, kafka: Kafka): WriterSchemaResolver | null {
  return config.schemasTopic === null
    ? null
    : new WriterSchemaResolver({ kafka, topic: config.schemasTopic, logger: config.logger });
}

/** The chain of the worker (and, with a bounded range, of replay): dead letters go to the dead-letter topic. */
export function recordChain(
  config: WorkerConfig,
  kafka: Kafka,
  sink: Sink,
  metrics: WorkerMetrics,
  range: BoundedRange | null = null,
): (controls: ConsumerControls) => Chain {
  return (controls) =>
    new Chain(
      {
        config,
        sink,
        metrics,
        logger: config.logger,
        range,
        deadLetters: new DeadLetterSender(
          kafka,
          config.deadLetterTopic,
          config.groupId,
          config.maxDeadLetterBytes,
        ),
        writerSchemas: writerSchemasFor(config, kafka),
      },
      controls,
    );
}
