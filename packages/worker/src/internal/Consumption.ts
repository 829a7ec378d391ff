import type { Sink } from "@tracehouse/clickhouse";
import type { Logger } from "@tracehouse/schemas";
import { Partitioners } from "kafkajs";
import type { Consumer, EachBatchPayload, Kafka, Producer } from "kafkajs";
import type { WorkerConfig } from "../config.js";
import { DeadLetterSender } from "./DeadLetterSender.js";
import { Pipeline } from "./Pipeline.js";
import type { CommitOffset, PipelineStats } from "./Pipeline.js";
import type { PartitionOffsets } from "./PartitionOffsets.js";
import { groupByTopic, parsePartitionKey, partitionKey } from "./source.js";
import type { TopicPartitions } from "./source.js";
import type { WorkerMetrics } from "./WorkerMetrics.js";
import { WriterSchemaResolver } from "./WriterSchemaResolver.js";

export const ConsumptionState = {
  Idle: "idle",
  Starting: "starting",
  Running: "running",
  Stopping: "stopping",
  Stopped: "stopped",
  Failed: "failed",
} as const;
export type ConsumptionState = (typeof ConsumptionState)[keyof typeof ConsumptionState];

export interface ConsumptionOptions {
  readonly config: WorkerConfig;
  readonly kafka: Kafka;
  readonly sink: Sink;
  readonly metrics: WorkerMetrics;
  readonly groupId: string;
  /** Where each partition (`partitionKey`) starts when first assigned, instead of the group's committed offset. */
  readonly startOffsets?: ReadonlyMap<string, number>;
  /** Exclusive end offset per partition (`partitionKey`): records at or past it are not handled. */
  readonly endOffsets?: ReadonlyMap<string, number>;
  /** Batch per table and partition, cut by size and range end only (deterministic dedup tokens). Default: false. */
  readonly batchPerPartition?: boolean;
  /** Called when a bounded partition has everything below its end offset written and committed. */
  readonly onPartitionComplete?: (topic: string, partition: number) => void;
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One consumer-group member feeding the pipeline: subscribes, hands fetched batches over,
 * commits written offsets, follows rebalances, and stops gracefully (stop fetching, flush,
 * commit, leave) or on a fatal pipeline error.
 */
export class Consumption {
  readonly #config: WorkerConfig;
  readonly #logger: Logger;
  readonly #metrics: WorkerMetrics;
  readonly #consumer: Consumer;
  readonly #producer: Producer;
  readonly #pipeline: Pipeline;
  readonly #groupId: string;
  readonly #startOffsets: ReadonlyMap<string, number> | undefined;
  readonly #endOffsets: ReadonlyMap<string, number> | undefined;
  readonly #onPartitionComplete: ((topic: string, partition: number) => void) | undefined;
  /** Partitions held paused whatever the backpressure says: bounded partitions that are complete. */
  readonly #held = new Set<string>();
  readonly #completed = new Set<string>();
  #assigned: ReadonlyMap<string, ReadonlySet<number>> = new Map();
  #state: ConsumptionState = ConsumptionState.Idle;
  #joined = false;
  #batchesInFlight = 0;
  #batchWaiters: (() => void)[] = [];
  #stopping: Promise<void> | null = null;
  #error: Error | null = null;
  #resolveDone!: () => void;
  #rejectDone!: (error: Error) => void;
  readonly done: Promise<void>;

  constructor(options: ConsumptionOptions) {
    const { config, kafka } = options;
    this.#config = config;
    this.#logger = config.logger;
    this.#metrics = options.metrics;
    this.#groupId = options.groupId;
    this.#startOffsets = options.startOffsets;
    this.#endOffsets = options.endOffsets;
    this.#onPartitionComplete = options.onPartitionComplete;
    this.done = new Promise<void>((resolve, reject) => {
      this.#resolveDone = resolve;
      this.#rejectDone = reject;
    });
    this.done.catch(() => undefined);
    this.#consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: config.sessionTimeoutMs,
      rebalanceTimeout: config.rebalanceTimeoutMs,
      heartbeatInterval: config.heartbeatIntervalMs,
      maxBytesPerPartition: config.maxBytesPerPartition,
      maxBytes: config.maxBytesPerFetch,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
    });
    // Not idempotent: an idempotent kafkajs producer retries for ever inside send(). The pipeline
    // owns the retries of dead-letter sends; a dead letter sent twice is harmless.
    this.#producer = kafka.producer({
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 0 },
    });
    this.#pipeline = new Pipeline(
      { ...config, batchPerPartition: options.batchPerPartition ?? false },
      options.sink,
      new DeadLetterSender(
        this.#producer,
        kafka,
        config.deadLetterTopic,
        options.groupId,
        config.maxDeadLetterBytes,
      ),
      options.metrics,
      config.logger,
      {
        pause: (partitions) => this.#consumer.pause([...partitions]),
        resume: (partitions) => this.#resume(partitions),
        commit: (offsets) => this.#commit(offsets),
        fail: (error) => this.#fail(error),
      },
      config.schemasTopic === null
        ? null
        : new WriterSchemaResolver({ kafka, topic: config.schemasTopic, logger: config.logger }),
    );
  }

  get state(): ConsumptionState {
    return this.#state;
  }

  get joined(): boolean {
    return this.#joined;
  }

  get error(): Error | null {
    return this.#error;
  }

  get groupId(): string {
    return this.#groupId;
  }

  assignment(): TopicPartitions[] {
    return [...this.#assigned].map(([topic, partitions]) => ({
      topic,
      partitions: [...partitions].sort((a, b) => a - b),
    }));
  }

  stats(): PipelineStats {
    return this.#pipeline.stats();
  }

  partitions(): readonly PartitionOffsets[] {
    return this.#pipeline.partitions();
  }

  /** Connects, joins the group and starts consuming; resolves once the first assignment arrived. */
  async start(): Promise<void> {
    if (this.#state !== ConsumptionState.Idle)
      throw new Error(`cannot start a consumer that is ${this.#state}`);
    this.#state = ConsumptionState.Starting;
    const joined = new Promise<void>((resolve, reject) => {
      this.#consumer.on(this.#consumer.events.GROUP_JOIN, ({ payload }) => {
        this.#onJoin(payload.memberAssignment);
        resolve();
      });
      this.#consumer.on(this.#consumer.events.CRASH, ({ payload }) => {
        this.#logger.error("consumer crashed", { error: payload.error.message, restart: payload.restart });
        if (!payload.restart) {
          this.#fail(payload.error);
          reject(payload.error);
        }
      });
    });
    try {
      await this.#pipeline.prepare();
      await this.#producer.connect();
      await this.#consumer.connect();
      await this.#consumer.subscribe({
        topics: [...this.#config.topics],
        fromBeginning: this.#config.fromBeginning,
      });
      await this.#consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 2,
        eachBatch: (payload) => this.#eachBatch(payload),
      });
      await joined;
    } catch (error) {
      this.#pipeline.close();
      await this.#disconnect();
      this.#state = ConsumptionState.Failed;
      this.#error = error instanceof Error ? error : new Error(String(error));
      this.#rejectDone(this.#error);
      throw error;
    }
    if (this.#state === ConsumptionState.Starting) this.#state = ConsumptionState.Running;
  }

  /** Stops fetching, writes and commits what was fetched, leaves the group. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    if (this.#state === ConsumptionState.Failed || this.#state === ConsumptionState.Idle) {
      if (this.#state === ConsumptionState.Idle) this.#resolveDone();
      return this.done.catch(() => undefined);
    }
    this.#state = ConsumptionState.Stopping;
    this.#pipeline.stopFetching();
    this.#pauseAll();
    try {
      await withTimeout(
        (async () => {
          await this.#batchesSettled();
          await this.#pipeline.drain();
        })(),
        this.#config.shutdownTimeoutMs,
        `shutdown took longer than ${this.#config.shutdownTimeoutMs} ms`,
      );
      this.#logger.info("flushed and committed; leaving the group", { groupId: this.#groupId });
    } catch (error) {
      this.#pipeline.abandon();
      this.#logger.error("stopping without writing everything fetched; it will be read again", {
        error: error instanceof Error ? error.message : String(error),
      });
    }
    this.#pipeline.close();
    await this.#disconnect();
    if (this.#error !== null) {
      this.#state = ConsumptionState.Failed;
      this.#rejectDone(this.#error);
      return;
    }
    this.#state = ConsumptionState.Stopped;
    this.#resolveDone();
  }

  #fail(error: Error): void {
    if (this.#error !== null) return;
    this.#error = error;
    if (this.#state === ConsumptionState.Starting) return;
    this.#state = ConsumptionState.Failed;
    this.#logger.error("stopping the consumer", { error: error.message, name: error.name });
    this.#pipeline.stopFetching();
    this.#pauseAll();
    void (async () => {
      this.#pipeline.abandon();
      await this.#disconnect();
      this.#rejectDone(error);
    })();
  }

  async #disconnect(): Promise<void> {
    const results = await Promise.allSettled([this.#consumer.disconnect(), this.#producer.disconnect()]);
    for (const result of results) {
      if (result.status === "rejected") {
        this.#logger.warn("disconnect failed", { error: String(result.reason) });
      }
    }
  }

  #pauseAll(): void {
    try {
      this.#consumer.pause(this.#config.topics.map((topic) => ({ topic })));
    } catch {
      // Not running yet: nothing is being fetched.
    }
  }

  #resume(partitions: readonly TopicPartitions[]): void {
    if (this.#state !== ConsumptionState.Running && this.#state !== ConsumptionState.Starting) return;
    const allowed = partitions
      .map(({ topic, partitions: list }) => ({
        topic,
        partitions: list.filter((partition) => !this.#held.has(partitionKey(topic, partition))),
      }))
      .filter(({ partitions: list }) => list.length > 0);
    if (allowed.length > 0) this.#consumer.resume(allowed);
  }

  async #commit(offsets: readonly CommitOffset[]): Promise<void> {
    await this.#consumer.commitOffsets([...offsets]);
    if (this.#endOffsets === undefined) return;
    for (const { topic, partition, offset } of offsets) {
      const key = partitionKey(topic, partition);
      const end = this.#endOffsets.get(key);
      if (end === undefined || this.#completed.has(key) || Number(offset) < end) continue;
      this.#completed.add(key);
      this.#onPartitionComplete?.(topic, partition);
    }
  }

  #onJoin(memberAssignment: Record<string, number[]>): void {
    this.#joined = true;
    this.#metrics.rebalances.inc();
    const assigned = new Map<string, ReadonlySet<number>>();
    for (const [topic, partitions] of Object.entries(memberAssignment))
      assigned.set(topic, new Set(partitions));
    this.#assigned = assigned;
    const seeks = this.#pipeline.reassign(assigned);
    const continuing = new Set(seeks.map(({ topic, partition }) => partitionKey(topic, partition)));
    for (const [topic, partitions] of assigned) {
      for (const partition of partitions) {
        const key = partitionKey(topic, partition);
        const start = this.#startOffsets?.get(key);
        if (start !== undefined && !continuing.has(key) && !this.#completed.has(key)) {
          seeks.push({ topic, partition, offset: String(start) });
        }
      }
    }
    for (const seek of seeks) this.#consumer.seek(seek);
    this.#pipeline.reapplyPauses();
    const held = [...this.#held]
      .map(parsePartitionKey)
      .filter(({ topic, partition }) => assigned.get(topic)?.has(partition) === true);
    if (held.length > 0) this.#consumer.pause(groupByTopic(held));
    if (this.#state === ConsumptionState.Stopping || this.#state === ConsumptionState.Failed)
      this.#pauseAll();
    this.#logger.info("joined the consumer group", {
      groupId: this.#groupId,
      partitions: [...assigned].map(([topic, partitions]) => `${topic}[${[...partitions].join(",")}]`),
    });
  }

  async #eachBatch({ batch, resolveOffset, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (this.#state !== ConsumptionState.Running && this.#state !== ConsumptionState.Starting) return;
    if (!isRunning() || isStale() || this.#pipeline.failed !== null) return;
    this.#batchesInFlight++;
    try {
      const { topic, partition } = batch;
      const key = partitionKey(topic, partition);
      let messages = batch.messages;
      let endOffset = Number(batch.lastOffset()) + 1;
      const bound = this.#endOffsets?.get(key);
      if (bound !== undefined) {
        if (endOffset > bound) messages = messages.filter((message) => Number(message.offset) < bound);
        endOffset = Math.min(endOffset, bound);
      }
      await this.#pipeline.accept({
        topic,
        partition,
        messages,
        endOffset,
        highWatermark: Number(batch.highWatermark),
      });
      resolveOffset(batch.lastOffset());
      if (bound !== undefined && endOffset >= bound && !this.#held.has(key)) {
        this.#held.add(key);
        this.#consumer.pause([{ topic, partitions: [partition] }]);
        this.#pipeline.sealPartition(topic, partition);
      }
    } finally {
      this.#batchesInFlight--;
      if (this.#batchesInFlight === 0) for (const resolve of this.#batchWaiters.splice(0)) resolve();
    }
  }

  async #batchesSettled(): Promise<void> {
    while (this.#batchesInFlight > 0) await new Promise<void>((resolve) => this.#batchWaiters.push(resolve));
  }

  /** Marks bounded partitions without any records in range as complete: they are never fetched. */
  completeEmpty(keys: Iterable<string>): void {
    for (const key of keys) {
      if (this.#completed.has(key)) continue;
      this.#completed.add(key);
      this.#held.add(key);
      const { topic, partition } = parsePartitionKey(key);
      this.#onPartitionComplete?.(topic, partition);
    }
  }
}
