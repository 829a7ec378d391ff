import type { Logger } from "@tracehouse/schemas";
import type { Consumer, ConsumerRunConfig, EachBatchPayload, Kafka } from "kafkajs";
import { groupSettleMs } from "../config.js";
import type { WorkerConfig } from "../config.js";
import type { Chain, ChainStats, ConsumerControls } from "./Chain.js";
import { isCoordinatorLost } from "./coordinator-lost.js";
import type { PartitionOffsets } from "./PartitionOffsets.js";
import { RejoinGate, withTimeout } from "./rejoin-gate.js";
import { groupByTopic, partitionKey } from "./source.js";
import type { TopicPartitions } from "./source.js";
import type { CommitOffset } from "./steps/step.js";
import type { WorkerMetrics } from "./WorkerMetrics.js";

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
  /** Topics to subscribe to, where to start without a committed offset, and the consumer's settings. */
  readonly config: WorkerConfig;
  readonly kafka: Kafka;
  readonly metrics: WorkerMetrics;
  readonly groupId: string;
  /** Builds the chain the consumer feeds, around the consumer's controls. */
  readonly chain: (controls: ConsumerControls) => Chain;
}

/**
 * The kafkajs adapter, and nothing more: one consumer-group member that subscribes, hands fetched
 * batches to the chain, commits and pauses for it, follows rebalances, and stops gracefully (stop
 * fetching, drain the chain, leave) or when the chain fails.
 */
export class Consumption {
  readonly #config: WorkerConfig;
  readonly #logger: Logger;
  readonly #metrics: WorkerMetrics;
  readonly #consumer: Consumer;
  readonly #chain: Chain;
  readonly #groupId: string;
  readonly #run: ConsumerRunConfig = {
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 2,
    eachBatch: (payload) => this.#eachBatch(payload),
  };
  #assigned: ReadonlyMap<string, ReadonlySet<number>> = new Map();
  readonly #rejoin = new RejoinGate();
  #state: ConsumptionState = ConsumptionState.Idle;
  #joined = false;
  #batchesInFlight = 0;
  #batchWaiters: (() => void)[] = [];
  #stopping: Promise<void> | null = null;
  /** Set once the consumer is being disconnected for good: a restart under way must not run it again. */
  #disconnecting = false;
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
    this.#chain = options.chain({
      pause: (partitions) => this.#control(() => this.#consumer.pause([...partitions])),
      resume: (partitions) => this.#resume(partitions),
      commit: (offsets) => this.#commit(offsets),
      fail: (error) => this.#fail(error),
      hold: (topic, partition) =>
        this.#control(() => this.#consumer.pause([{ topic, partitions: [partition] }])),
    });
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

  stats(): ChainStats {
    return this.#chain.stats();
  }

  partitions(): readonly PartitionOffsets[] {
    return this.#chain.partitions();
  }

  /** Connects, joins the group and starts consuming; resolves once the first assignment arrived. */
  async start(): Promise<void> {
    if (this.#state !== ConsumptionState.Idle)
      throw new Error(`cannot start a consumer that is ${this.#state}`);
    this.#state = ConsumptionState.Starting;
    const joined = new Promise<void>((resolve, reject) => {
      this.#consumer.on(this.#consumer.events.GROUP_JOIN, ({ payload }) => {
        this.#onJoin(payload.memberAssignment);
        this.#rejoin.joined();
        resolve();
      });
      this.#consumer.on(this.#consumer.events.CRASH, ({ payload }) => {
        this.#logger.error("consumer crashed", { error: payload.error.message, restart: payload.restart });
        if (payload.restart) this.#rejoin.enter();
        if (!payload.restart) {
          this.#fail(payload.error);
          reject(payload.error);
        }
      });
    });
    try {
      await this.#chain.start();
      await this.#consumer.connect();
      await this.#consumer.subscribe({
        topics: [...this.#config.topics],
        fromBeginning: this.#config.fromBeginning,
      });
      await this.#consumer.run(this.#run);
      await joined;
    } catch (error) {
      this.#chain.close();
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
    this.#chain.stopFetching();
    this.#pauseAll();
    try {
      await withTimeout(
        (async () => {
          await this.#batchesSettled();
          await this.#chain.drain();
        })(),
        this.#config.shutdownTimeoutMs,
        `shutdown took longer than ${this.#config.shutdownTimeoutMs} ms`,
      );
      this.#logger.info("flushed and committed; leaving the group", { groupId: this.#groupId });
    } catch (error) {
      this.#chain.abandon();
      this.#logger.error("stopping without writing everything fetched; it will be read again", {
        error: error instanceof Error ? error.message : String(error),
      });
    }
    this.#chain.close();
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
    this.#chain.stopFetching();
    this.#pauseAll();
    void (async () => {
      this.#chain.abandon();
      await this.#disconnect();
      this.#rejectDone(error);
    })();
  }

  async #disconnect(): Promise<void> {
    this.#disconnecting = true;
    const results = await Promise.allSettled([this.#consumer.disconnect(), this.#chain.release()]);
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

  /**
   * Pauses or resumes; while the consumer restarts kafkajs has no group to pause in and throws: the
   * join to come applies the chain's pauses and holds again, and a new consumer has nothing paused.
   */
  #control(action: () => void): void {
    try {
      action();
    } catch (error) {
      if (!this.#rejoin.open) throw error;
    }
  }

  #resume(partitions: readonly TopicPartitions[]): void {
    if (this.#state !== ConsumptionState.Running && this.#state !== ConsumptionState.Starting) return;
    const range = this.#chain.range;
    const allowed = partitions
      .map(({ topic, partitions: list }) => ({
        topic,
        partitions: list.filter((partition) => range === null || !range.isHeld(topic, partition)),
      }))
      .filter(({ partitions: list }) => list.length > 0);
    if (allowed.length > 0) this.#control(() => this.#consumer.resume(allowed));
  }

  /**
   * Commits offsets of the partitions assigned now. While kafkajs restarts a crashed consumer (a broker or
   * coordinator lost) there is no group to commit to: the commit waits for the rejoin, bounded by the
   * group's own timeouts, instead of spending its retries on an outage kafkajs is already riding out.
   * A commit refused because the coordinator moved, or not reaching it, restarts the consumer (the
   * error still fails this attempt): kafkajs may commit through a coordinator it left while its
   * heartbeats go on (see coordinator-lost), and only a new join finds the current one.
   */
  async #commit(offsets: readonly CommitOffset[]): Promise<void> {
    await this.#rejoin.wait(groupSettleMs(this.#config));
    const mine = offsets.filter(({ topic, partition }) => this.#assigned.get(topic)?.has(partition) === true);
    if (mine.length === 0) return;
    try {
      await this.#consumer.commitOffsets(mine);
    } catch (error) {
      if (isCoordinatorLost(error)) await this.#restart(error);
      throw error;
    }
  }

  /**
   * Stops the kafkajs consumer and runs it again, as kafkajs itself restarts after a crash: it joins
   * its group through the coordinator it finds now. What the chain holds stays: the join seeks each
   * partition kept to where the chain's records end, so nothing is fetched or written twice.
   */
  async #restart(cause: unknown): Promise<void> {
    if (this.#rejoin.open || !this.#consuming()) return;
    this.#logger.warn("the group's coordinator moved or is unreachable; rejoining the group", {
      groupId: this.#groupId,
      error: cause instanceof Error ? cause.message : String(cause),
    });
    const rejoin = this.#rejoin.enter();
    try {
      await this.#consumer.stop();
      // A failed or stopped consumer is disconnecting: it must not start again.
      if (this.#consuming() && !this.#disconnecting) await this.#consumer.run(this.#run);
      // ... and one that ran again while it was disconnected stops here, or it would fetch for ever
      if (this.#disconnecting) await this.#consumer.disconnect();
    } catch (error) {
      this.#rejoin.cancel(rejoin);
      throw error;
    }
  }

  /** Running, or stopping (draining what it holds, committing it before it leaves). */
  #consuming(): boolean {
    return this.#state === ConsumptionState.Running || this.#state === ConsumptionState.Stopping;
  }

  #onJoin(memberAssignment: Record<string, number[]>): void {
    this.#joined = true;
    this.#metrics.rebalances.inc();
    const assigned = new Map<string, ReadonlySet<number>>();
    for (const [topic, partitions] of Object.entries(memberAssignment))
      assigned.set(topic, new Set(partitions));
    this.#assigned = assigned;
    const seeks = this.#chain.reassign(assigned);
    const range = this.#chain.range;
    if (range !== null) {
      // A bounded range starts each partition it has not begun at the range's start.
      const continuing = new Set(seeks.map(({ topic, partition }) => partitionKey(topic, partition)));
      for (const [topic, partitions] of assigned) {
        for (const partition of partitions) {
          const start = range.startOf(topic, partition);
          if (start !== undefined && !continuing.has(partitionKey(topic, partition)))
            seeks.push({ topic, partition, offset: String(start) });
        }
      }
    }
    // (a join of a consumer stopped meanwhile has nothing to seek or pause in: the next join does it)
    for (const seek of seeks) this.#control(() => this.#consumer.seek(seek));
    this.#chain.reapplyPauses();
    const held = (range?.held() ?? []).filter(
      ({ topic, partition }) => assigned.get(topic)?.has(partition) === true,
    );
    if (held.length > 0) this.#control(() => this.#consumer.pause(groupByTopic(held)));
    if (this.#state === ConsumptionState.Stopping || this.#state === ConsumptionState.Failed)
      this.#pauseAll();
    this.#logger.info("joined the consumer group", {
      groupId: this.#groupId,
      partitions: [...assigned].map(([topic, partitions]) => `${topic}[${[...partitions].join(",")}]`),
    });
  }

  async #eachBatch({ batch, resolveOffset, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (this.#state !== ConsumptionState.Running && this.#state !== ConsumptionState.Starting) return;
    if (!isRunning() || isStale() || this.#chain.failed !== null) return;
    this.#batchesInFlight++;
    try {
      await this.#chain.submit({
        topic: batch.topic,
        partition: batch.partition,
        messages: batch.messages,
        endOffset: Number(batch.lastOffset()) + 1,
        highWatermark: Number(batch.highWatermark),
      });
      resolveOffset(batch.lastOffset());
    } finally {
      this.#batchesInFlight--;
      if (this.#batchesInFlight === 0) for (const resolve of this.#batchWaiters.splice(0)) resolve();
    }
  }

  async #batchesSettled(): Promise<void> {
    while (this.#batchesInFlight > 0) await new Promise<void>((resolve) => this.#batchWaiters.push(resolve));
  }
}
