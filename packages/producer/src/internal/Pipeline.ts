import { backoffDelayMs } from "@tracehouse/schemas";
import type { RetryPolicy } from "@tracehouse/schemas";
import type { ProducerConfig } from "../config.js";
import { BackpressurePolicy } from "../config.js";
import { EmitResult } from "../emit-result.js";
import { DropReason, ProducerState } from "../stats.js";
import { BoundedQueue } from "./BoundedQueue.js";
import type { Counters } from "./counters.js";
import { DropLog } from "./DropLog.js";
import { SendError } from "./KafkaTransport.js";
import type { KafkaTransport } from "./KafkaTransport.js";
import type { Outbound } from "./outbound.js";
import { Settlement } from "./Settlement.js";
import type { Spool, SpoolPosition } from "./Spool.js";
import { Wakeup } from "./Wakeup.js";

/** The batch being sent: what Kafka has not acknowledged of it is retried until Kafka takes it. */
interface Head {
  /** The records not acknowledged yet. */
  records: Outbound[];
  /** Records of the batch acknowledged by an earlier, partly failed, send. */
  acknowledged: number;
  /** Where these records end in the spool, once they are in it. */
  end: SpoolPosition | null;
  readonly recovered: boolean;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Queue → batches → Kafka, with the spool in between when Kafka fails. Records leave in
 * the order they were accepted: the batch being retried first, then the spool, then
 * the queue. While Kafka fails the queue is moved to the spool and the oldest batch is
 * retried with backoff.
 */
export class Pipeline {
  readonly #config: ProducerConfig;
  readonly #queue: BoundedQueue;
  readonly #transport: KafkaTransport;
  readonly #spool: Spool | null;
  readonly #counters: Counters;
  readonly #maxBatchRecords: number;
  readonly #maxBatchBytes: number;
  readonly #loop: Promise<void>;
  readonly #backoff: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">;
  readonly #drops: DropLog;
  /** Records accepted here that were sent or dropped after acceptance. */
  readonly #settlement = new Settlement();
  #head: Head | null = null;
  #degraded = false;
  /** Failed sends in a row. */
  #failures = 0;
  #retryAt = 0;
  readonly #wakeup = new Wakeup();
  #lingerArmed = false;
  #lingerDue = false;
  #draining = 0;
  #stopping = false;
  #spoolClosed = false;
  #closing = false;
  #closed: Promise<void> | null = null;
  readonly #roomWaiters: (() => void)[] = [];

  constructor(config: ProducerConfig, transport: KafkaTransport, spool: Spool | null, counters: Counters) {
    this.#config = config;
    this.#queue = new BoundedQueue(config.maxQueueRecords, config.maxQueueBytes);
    this.#transport = transport;
    this.#spool = spool;
    this.#counters = counters;
    this.#maxBatchRecords = config.maxBatchRecords;
    this.#maxBatchBytes = config.maxBatchBytes;
    this.#backoff = { baseDelayMs: config.retryBackoffMs, maxDelayMs: config.maxRetryBackoffMs };
    this.#drops = new DropLog(counters, config.logger);
    spool?.attach({
      written: (count) => {
        counters.spooled += count;
        this.#wake();
      },
      dropped: (count, reason) => {
        this.drop(reason, count);
        this.#settlement.settle(count);
        this.#wake();
      },
    });
    this.#loop = this.#run();
  }

  get closing(): boolean {
    return this.#closing;
  }

  get state(): ProducerState {
    if (this.#closing) return ProducerState.Closed;
    return this.#degraded ? ProducerState.Degraded : ProducerState.Connected;
  }

  get queuedRecords(): number {
    return this.#queue.length;
  }

  get queuedBytes(): number {
    return this.#queue.bytes;
  }

  get spoolBytes(): number {
    return this.#spool === null || this.#spoolClosed ? 0 : this.#spool.pendingBytes;
  }

  /** Takes an encoded record without waiting. */
  offer(record: Outbound): EmitResult {
    const queue = this.#queue;
    if (queue.push(record)) {
      this.#counters.accepted += 1;
      if (!this.#lingerArmed) this.#armLinger();
      if (queue.length >= this.#maxBatchRecords || queue.bytes >= this.#maxBatchBytes) this.#wake();
      return EmitResult.Queued;
    }
    return this.#offerWhenFull(record);
  }

  /** True while the queue is at most half full (records and bytes). */
  get hasRoom(): boolean {
    return (
      this.#queue.length * 2 <= this.#config.maxQueueRecords &&
      this.#queue.bytes * 2 <= this.#config.maxQueueBytes
    );
  }

  /** Resolves once the queue is at most half full, or the pipeline is closing. */
  whenRoom(): Promise<void> {
    if (this.hasRoom || this.#closing) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  #notifyRoom(): void {
    if (this.#roomWaiters.length === 0 || !(this.hasRoom || this.#closing)) return;
    for (const resolve of this.#roomWaiters.splice(0)) resolve();
  }

  /** Counts a record that was not accepted, logging at most once a second per reason with the count. */
  drop(reason: DropReason, count = 1, error?: string): void {
    this.#drops.drop(reason, count, error);
  }

  #offerWhenFull(record: Outbound): EmitResult {
    const spool = this.#spool;
    if (this.#config.backpressure === BackpressurePolicy.Drop || spool === null || this.#spoolClosed) {
      this.drop(DropReason.QueueFull);
      return EmitResult.Dropped;
    }
    if (!spool.canTake(this.#queue.bytes + record.size)) {
      this.drop(DropReason.SpillBacklog);
      return EmitResult.Dropped;
    }
    this.#spoolQueue();
    spool.enqueue([record], record.size);
    this.#counters.accepted += 1;
    return EmitResult.Spooled;
  }

  /**
   * Hands every queued record to the spool's background writer, in order, when its backlog
   * has room; else they stay queued. The writer reports each as written or dropped.
   */
  #spoolQueue(): void {
    const spool = this.#spool;
    const queue = this.#queue;
    if (spool === null || this.#spoolClosed || queue.length === 0 || !spool.canTake(queue.bytes)) return;
    const bytes = queue.bytes;
    const records = queue.takeAll();
    this.#notifyRoom();
    spool.enqueue(records, bytes);
  }

  #armLinger(): void {
    this.#lingerArmed = true;
    const fire = (): void => {
      this.#lingerArmed = false;
      this.#lingerDue = true;
      this.#wake();
    };
    if (this.#config.lingerMs === 0) setImmediate(fire);
    else setTimeout(fire, this.#config.lingerMs);
  }

  #wake(): void {
    this.#wakeup.wake();
  }

  #sleep(ms: number): Promise<void> {
    return this.#wakeup.sleep(ms);
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      try {
        await this.#step();
      } catch (error) {
        this.#config.logger.error("producer send loop failed: retrying", { error: String(error) });
        await this.#sleep(this.#config.retryBackoffMs);
      }
    }
  }

  async #step(): Promise<void> {
    if (this.#degraded) {
      this.#spoolQueue();
      const wait = this.#retryAt - performance.now();
      if (wait > 0) {
        await this.#sleep(wait);
        return;
      }
    }
    const batch = this.#head ?? this.#nextBatch();
    if (batch === null) {
      await this.#sleep(Number.POSITIVE_INFINITY);
      return;
    }
    this.#head = batch;
    const started = performance.now();
    try {
      await this.#transport.send(batch.records);
    } catch (error) {
      this.#onFailure(batch, error);
      return;
    }
    this.#onSuccess(batch, performance.now() - started);
  }

  #nextBatch(): Head | null {
    const spool = this.#spoolClosed ? null : this.#spool;
    if (spool !== null && spool.pendingBytes > 0) {
      const batch = spool.read(this.#maxBatchRecords, this.#maxBatchBytes);
      const lost = spool.takeLost();
      if (lost > 0) this.drop(DropReason.Corrupt, lost);
      if (batch !== null)
        return { records: batch.records, acknowledged: 0, end: batch.end, recovered: batch.recovered };
    }
    // records still on their way to disk are older than the queue: wait for the writer, which wakes the loop
    if (spool !== null && spool.unwrittenRecords > 0) return null;
    const queue = this.#queue;
    if (queue.length === 0) return null;
    const full = queue.length >= this.#maxBatchRecords || queue.bytes >= this.#maxBatchBytes;
    if (!full && !this.#lingerDue && this.#draining === 0) return null;
    const records = queue.take(this.#maxBatchRecords, this.#maxBatchBytes);
    if (queue.length === 0) this.#lingerDue = false;
    this.#notifyRoom();
    return { records, acknowledged: 0, end: null, recovered: false };
  }

  #onSuccess(batch: Head, elapsedMs: number): void {
    const counters = this.#counters;
    counters.recordLatency(elapsedMs);
    counters.batchesSent += 1;
    this.#countSent(batch, batch.records.length);
    if (!batch.recovered) this.#settlement.settle(batch.acknowledged + batch.records.length);
    this.#head = null;
    if (batch.end !== null && this.#spool !== null && !this.#spoolClosed) {
      try {
        this.#spool.ack(batch.end);
      } catch (error) {
        this.#config.logger.error("spool acknowledgement failed: these records may be sent again", {
          error: String(error),
        });
      }
    }
    this.#failures = 0;
    if (this.#degraded) {
      this.#degraded = false;
      this.#config.logger.info("kafka is reachable again: sending spooled records first", {
        spoolBytes: this.spoolBytes,
      });
    }
  }

  #countSent(batch: Head, count: number): void {
    this.#counters.sent += count;
    if (batch.recovered) this.#counters.recovered += count;
  }

  /** The records Kafka did acknowledge leave the batch; the others are spooled (once) and retried after a backoff. */
  #onFailure(batch: Head, error: unknown): void {
    this.#counters.sendErrors += 1;
    if (!this.#degraded) {
      this.#degraded = true;
      this.#config.logger.warn("kafka send failed: spooling records and retrying the oldest batch", {
        error: error instanceof Error ? error.message : String(error),
      });
    }
    if (error instanceof SendError && error.unsent.length < batch.records.length) {
      const acknowledged = batch.records.length - error.unsent.length;
      this.#countSent(batch, acknowledged);
      batch.acknowledged += acknowledged;
      batch.records = [...error.unsent];
    }
    const spool = this.#spool;
    if (spool !== null && !this.#spoolClosed && batch.end === null) {
      try {
        batch.end = spool.writeHead(batch.records);
        if (batch.end !== null) this.#counters.spooled += batch.records.length;
      } catch (spoolError) {
        this.#config.logger.error("spool write failed: the batch stays in memory", {
          error: String(spoolError),
        });
      }
    }
    this.#spoolQueue();
    this.#retryAt = performance.now() + backoffDelayMs(this.#backoff, this.#failures);
    this.#failures += 1;
  }

  /** Resolves once every record accepted before the call is sent (or was dropped); rejects with code TIMEOUT. */
  async flush(timeoutMs: number): Promise<void> {
    const target = this.#counters.accepted;
    if (this.#settlement.settled >= target) return;
    this.#draining += 1;
    this.#wake();
    try {
      await this.#settlement.waitFor(target, timeoutMs, () =>
        this.#degraded ? " (kafka unavailable; they are kept in the spool)" : "",
      );
    } finally {
      this.#draining -= 1;
    }
  }

  /** Stops taking records, sends what it can within `timeoutMs`, spools the rest, disconnects. */
  close(timeoutMs: number): Promise<void> {
    this.#closed ??= this.#close(timeoutMs);
    return this.#closed;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    this.#notifyRoom();
    const deadline = performance.now() + timeoutMs;
    try {
      await this.flush(timeoutMs);
    } catch {
      // what is left goes to the spool below
    }
    this.#stopping = true;
    this.#wake();
    await Promise.race([this.#loop, delay(Math.max(0, deadline - performance.now()))]);
    this.#persistLeftovers();
    if (this.#spool !== null) {
      this.#spoolClosed = true;
      try {
        await this.#spool.close(Math.max(1000, deadline - performance.now()));
      } catch (error) {
        this.#config.logger.error("spool close failed", { error: String(error) });
      }
      const pending = this.#spool.pendingBytes;
      if (pending > 0) {
        this.#config.logger.warn(
          "closed with unsent records in the spool: a producer on the same directory sends them",
          {
            dir: this.#spool.dir,
            bytes: pending,
          },
        );
      }
    }
    await Promise.race([this.#transport.disconnect(), delay(Math.max(1000, deadline - performance.now()))]);
  }

  #persistLeftovers(): void {
    const head = this.#head;
    const spool = this.#spoolClosed ? null : this.#spool;
    if (head !== null && head.end === null && !head.recovered) {
      let end: SpoolPosition | null = null;
      try {
        end = spool?.writeHead(head.records) ?? null;
      } catch (error) {
        this.#config.logger.error("spool write failed at close", { error: String(error) });
      }
      if (end !== null) this.#counters.spooled += head.records.length;
      else this.drop(DropReason.Closed, head.records.length);
      head.end = end;
    }
    if (spool !== null) this.#spoolQueue();
    const left = this.#queue.takeAll().length;
    if (left > 0) this.drop(DropReason.Closed, left);
  }
}
