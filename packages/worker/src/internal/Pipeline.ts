import { InsertFailure, classifyInsertFailure } from "@tracehouse/clickhouse";
import type { RecordTable, Row, Sink } from "@tracehouse/clickhouse";
import { DecodeErrorReason, backoffDelayMs, retry } from "@tracehouse/schemas";
import type { Logger } from "@tracehouse/schemas";
import type { KafkaMessage } from "kafkajs";
import type { WorkerConfig } from "../config.js";
import { DeadLetterReason } from "../dead-letter.js";
import { RetriesExhaustedError } from "../errors.js";
import { isTransientSendError } from "./DeadLetterSender.js";
import type { DeadLetter, DeadLetterSender } from "./DeadLetterSender.js";
import { PartitionOffsets } from "./PartitionOffsets.js";
import { batchKey, dedupToken } from "./steps/batch-key.js";
import { DeadLetterRatioPolicy } from "./steps/dead-letter-policy.js";
import { Projector } from "./steps/project.js";
import { groupByTopic, partitionKey } from "./source.js";
import type { SourceRef, TopicPartitions } from "./source.js";
import type { WorkerMetrics } from "./WorkerMetrics.js";
import type { WriterSchemaResolver } from "./WriterSchemaResolver.js";

export type PipelineConfig = PipelineMode &
  Pick<
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
  >;

export interface PipelineMode {
  /**
   * Batch per table and partition, cut only by size and at the end of a bounded range (never by
   * time), so the same range always makes the same batches with the same dedup tokens: a replayed
   * range is dropped by ClickHouse's insert deduplication. Default: false (per table, over partitions).
   */
  readonly batchPerPartition?: boolean;
}

export interface CommitOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface PipelineHooks {
  pause(partitions: readonly TopicPartitions[]): void;
  resume(partitions: readonly TopicPartitions[]): void;
  commit(offsets: readonly CommitOffset[]): Promise<void>;
  /** The pipeline cannot go on (dead-letter limit, missing table, retries exhausted): stop the worker. */
  fail(error: Error): void;
}

/** One fetched run of a partition's records, already cut to what should be handled. */
export interface FetchedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly KafkaMessage[];
  /** The offset after the last record the fetch covered (filtered control records included). */
  readonly endOffset: number;
  readonly highWatermark: number;
}

export interface PipelineStats {
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

interface TableBatch {
  readonly table: RecordTable;
  readonly rows: Row[];
  readonly sources: SourceRef[];
  bytes: number;
  readonly openedAt: number;
}

interface TableState {
  readonly key: string;
  readonly table: RecordTable;
  open: TableBatch | null;
  readonly queue: TableBatch[];
  inserting: boolean;
  /** Topics whose records went into this table: the partitions to pause when it backs up. */
  readonly topics: Set<string>;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
/** Where the pipeline hands its dead letters: the dead-letter topic, or (redrive) a count of those still dead. */
export type DeadLetterSink = Pick<DeadLetterSender, "topic" | "send">;

const EMPTY = Buffer.alloc(0);

/**
 * The consumption engine between kafkajs and ClickHouse: decodes, maps and batches records per
 * table, inserts batches (retrying transient failures, splitting batches ClickHouse rejects),
 * dead-letters poison records, tracks which offsets are written, commits them, and pauses
 * partitions while batches pile up.
 */
export class Pipeline {
  readonly #config: PipelineConfig;
  readonly #sink: Sink;
  readonly #deadLetters: DeadLetterSink;
  readonly #metrics: WorkerMetrics;
  readonly #logger: Logger;
  readonly #hooks: PipelineHooks;
  readonly #writerSchemas: WriterSchemaResolver | null;
  readonly #tables = new Map<string, TableState>();
  readonly #selected: ReadonlySet<string>;
  readonly #partitions = new Map<string, PartitionOffsets>();
  readonly #paused = new Map<string, PartitionOffsets>();
  /** Records waiting in Kafka after each partition's last fetch: while a table's topics lag, its batches fill instead of being cut by time. */
  readonly #lag = new Map<string, { readonly topic: string; readonly records: number }>();
  readonly #abort = new AbortController();
  readonly #timer: NodeJS.Timeout;
  readonly #idleWaiters: (() => void)[] = [];
  #bufferedRows = 0;
  #bufferedBytes = 0;
  #written = 0;
  #deadLettered = 0;
  #skipped = 0;
  #pausedForBytes = false;
  #activeInserts = 0;
  #activeDeadLetters = 0;
  #retryingInserts = 0;
  #committing: Promise<void> | null = null;
  #commitAgain = false;
  #commitFailures = 0;
  #nextCommitAt = 0;
  #failed: Error | null = null;
  #draining = false;
  readonly #projector = new Projector();
  readonly #deadLetterPolicy: DeadLetterRatioPolicy;

  constructor(
    config: PipelineConfig,
    sink: Sink,
    deadLetters: DeadLetterSink,
    metrics: WorkerMetrics,
    logger: Logger,
    hooks: PipelineHooks,
    writerSchemas: WriterSchemaResolver | null = null,
  ) {
    this.#config = config;
    this.#writerSchemas = writerSchemas;
    this.#sink = sink;
    this.#deadLetters = deadLetters;
    this.#metrics = metrics;
    this.#logger = logger;
    this.#hooks = hooks;
    this.#selected = new Set(config.tables);
    this.#deadLetterPolicy = new DeadLetterRatioPolicy(config.deadLetterWindow, config.maxDeadLetterRatio);
    const tickMs = Math.max(10, Math.min(250, Math.floor(config.flushIntervalMs / 2)));
    this.#timer = setInterval(() => this.#tick(), tickMs);
    this.#timer.unref();
  }

  get failed(): Error | null {
    return this.#failed;
  }

  stats(): PipelineStats {
    return {
      bufferedRows: this.#bufferedRows,
      bufferedBytes: this.#bufferedBytes,
      pausedPartitions: this.#paused.size,
      insertRetrying: this.#retryingInserts > 0,
      written: this.#written,
      deadLettered: this.#deadLettered,
      skipped: this.#skipped,
    };
  }

  /** The offsets of a partition, tracked from its first batch after being assigned. */
  partition(topic: string, partition: number): PartitionOffsets {
    const key = partitionKey(topic, partition);
    let offsets = this.#partitions.get(key);
    if (offsets === undefined) {
      offsets = new PartitionOffsets(topic, partition);
      this.#partitions.set(key, offsets);
    }
    return offsets;
  }

  partitions(): readonly PartitionOffsets[] {
    return [...this.#partitions.values()];
  }

  /**
   * A new assignment after a rebalance: partitions no longer owned are forgotten (their late
   * completions commit nothing); for the ones kept, returns where fetching must continue so that
   * records buffered before the rebalance are not fetched twice.
   */
  reassign(assigned: ReadonlyMap<string, ReadonlySet<number>>): CommitOffset[] {
    const seeks: CommitOffset[] = [];
    const resumed: PartitionOffsets[] = [];
    for (const [key, offsets] of this.#partitions) {
      if (assigned.get(offsets.topic)?.has(offsets.partition) === true) {
        if (offsets.end >= 0) {
          seeks.push({ topic: offsets.topic, partition: offsets.partition, offset: String(offsets.end) });
        }
        continue;
      }
      offsets.retire();
      this.#partitions.delete(key);
      this.#lag.delete(key);
      this.#deadLetterPolicy.forget(offsets.topic, offsets.partition);
      this.#metrics.lag.remove({ topic: offsets.topic, partition: String(offsets.partition) });
      if (this.#paused.delete(key)) resumed.push(offsets);
    }
    if (resumed.length > 0) this.#hooks.resume(groupByTopic(resumed));
    this.#metrics.pausedPartitions.set(this.#paused.size);
    return seeks;
  }

  /** No partition is resumed from now on: the consumer is stopping. */
  stopFetching(): void {
    this.#draining = true;
  }

  /** Pauses again every partition paused for backpressure (a restarted client forgets them). */
  reapplyPauses(): void {
    if (this.#paused.size > 0) this.#hooks.pause(groupByTopic(this.#paused.values()));
  }

  /** Reads what the tables keep (their TTL), so rows ClickHouse would drop are dead-lettered instead. */
  async prepare(): Promise<void> {
    await this.#projector.prepare(this.#sink, this.#logger);
  }

  /** Decodes, maps and buffers one fetched batch; resolves once its dead letters are in the dead-letter topic. */
  async accept(batch: FetchedBatch): Promise<void> {
    if (this.#failed !== null) return;
    const now = Date.now();
    const offsets = this.partition(batch.topic, batch.partition);
    const letters: DeadLetter[] = [];
    let skipped = 0;
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      if (!offsets.add(offset)) continue;
      const source: SourceRef = { offsets, offset };
      let projection = this.#projector.project(message, now);
      if (
        !projection.ok &&
        projection.reason === DecodeErrorReason.UnknownFingerprint &&
        this.#writerSchemas !== null
      ) {
        // A newer writer: its schema may be in the schemas topic.
        const decoded = await this.#writerSchemas.resolveRecord(message.value ?? EMPTY);
        if (decoded !== null) projection = this.#projector.project(message, now, decoded);
      }
      if (!projection.ok) {
        const { reason, error, field } = projection;
        letters.push({ source, message, reason, error, ...(field === undefined ? {} : { field }) });
        continue;
      }
      const { mapped } = projection;
      if (!this.#selected.has(mapped.table)) {
        offsets.markDone(offset);
        skipped++;
        continue;
      }
      this.#add(mapped.table, mapped.row, source, (message.value?.length ?? 0) + (message.key?.length ?? 0));
    }
    offsets.seenUntil(batch.endOffset);
    this.#skipped += skipped;
    this.#metrics.recordsHandled(batch.topic, "skipped", skipped);
    const lag = Math.max(0, batch.highWatermark - batch.endOffset);
    this.#lag.set(partitionKey(batch.topic, batch.partition), { topic: batch.topic, records: lag });
    this.#metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, lag);
    this.#applyBackpressure();
    if (letters.length > 0) await this.#sendDeadLetters(letters);
    this.#commitSoon();
  }

  /** Seals every open batch, waits until all are inserted and dead letters sent, then commits. */
  async drain(): Promise<void> {
    this.#draining = true;
    for (const state of this.#tables.values()) this.#seal(state);
    this.#pump();
    while (!this.#idle() && this.#failed === null) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
    if (this.#failed !== null) throw this.#failed;
    await this.commitNow();
  }

  /** Commits every written offset now; throws when the commit fails. */
  async commitNow(): Promise<void> {
    while (this.#committing !== null) await this.#committing;
    const offsets = this.#collectCommits();
    if (offsets.length > 0) await this.#commit(offsets);
  }

  /** Gives up on everything in flight (shutdown timeout): retries end, nothing more is committed. */
  abandon(): void {
    this.#abort.abort(new Error("worker stopped before its batches were written"));
    this.close();
  }

  close(): void {
    clearInterval(this.#timer);
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  #add(table: RecordTable, row: Row, source: SourceRef, bytes: number): void {
    const { topic, partition } = source.offsets;
    const key = batchKey(
      table,
      row.event_time,
      this.#config.batchPerPartition === true ? partitionKey(topic, partition) : null,
    );
    let state = this.#tables.get(key);
    if (state === undefined) {
      state = { key, table, open: null, queue: [], inserting: false, topics: new Set() };
      this.#tables.set(key, state);
    }
    state.topics.add(topic);
    const open = (state.open ??= { table, rows: [], sources: [], bytes: 0, openedAt: Date.now() });
    open.rows.push(row);
    open.sources.push(source);
    open.bytes += bytes;
    this.#bufferedRows++;
    this.#bufferedBytes += bytes;
    if (open.rows.length >= this.#config.maxBatchRows || open.bytes >= this.#config.maxBatchBytes) {
      this.#seal(state);
      this.#pump();
    }
  }

  #seal(state: TableState): void {
    if (state.open === null) return;
    state.queue.push(state.open);
    state.open = null;
  }

  /** Seals the batches of one partition: its bounded range is complete. */
  sealPartition(topic: string, partition: number): void {
    const suffix = `\u0000${partitionKey(topic, partition)}`;
    for (const state of this.#tables.values()) if (state.key.endsWith(suffix)) this.#seal(state);
    this.#pump();
  }

  #tick(): void {
    if (this.#failed !== null) return;
    const now = Date.now();
    let sealed = false;
    for (const state of this.#tables.values()) {
      if (this.#config.batchPerPartition === true) break;
      const age = state.open === null ? 0 : now - state.open.openedAt;
      // Larger batches under load: a table whose topics lag waits (up to 4 intervals) for a full batch.
      if (
        age >= this.#config.flushIntervalMs &&
        (age >= 4 * this.#config.flushIntervalMs || !this.#lagging(state))
      ) {
        this.#seal(state);
        sealed = true;
      }
    }
    if (sealed) this.#pump();
    // Batches are per month: forget the states of months that are done.
    for (const [key, state] of this.#tables)
      if (state.open === null && state.queue.length === 0 && !state.inserting) this.#tables.delete(key);
    this.#updateGauges();
    if (now >= this.#nextCommitAt) this.#commitSoon();
  }

  #lagging(state: TableState): boolean {
    for (const { topic, records } of this.#lag.values())
      if (records > 0 && state.topics.has(topic)) return true;
    return false;
  }

  #pump(): void {
    while (this.#activeInserts < this.#config.maxConcurrentInserts && this.#failed === null) {
      let next: TableState | undefined;
      for (const state of this.#tables.values()) {
        const head = state.queue[0];
        if (state.inserting || head === undefined) continue;
        if (next === undefined || head.openedAt < next.queue[0]!.openedAt) next = state;
      }
      if (next === undefined) return;
      const batch = next.queue.shift()!;
      next.inserting = true;
      this.#activeInserts++;
      void this.#insert(next, batch);
    }
  }

  async #insert(state: TableState, batch: TableBatch): Promise<void> {
    const started = performance.now();
    try {
      const rejected = await this.#write(batch.table, batch.rows, batch.sources);
      const rejectedSources = new Set(rejected.map((letter) => letter.source));
      this.#metrics.rowsInserted(
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
      for (const [topic, count] of written) this.#metrics.recordsHandled(topic, "written", count);
      this.#written += batch.sources.length - rejected.length;
      if (rejected.length > 0) await this.#sendDeadLetters(rejected);
    } catch (error) {
      if (!this.#abort.signal.aborted) this.#fail(error);
    } finally {
      state.inserting = false;
      this.#activeInserts--;
      this.#bufferedRows -= batch.rows.length;
      this.#bufferedBytes -= batch.bytes;
      this.#pump();
      this.#applyBackpressure();
      this.#commitSoon();
      this.#wakeIfIdle();
    }
  }

  /**
   * Inserts rows; a batch ClickHouse rejects (or keeps failing on under load) is
   * split until the failing rows are found and returned. Halves of a batch whose retries ran out
   * are tried once each: the retries were spent on the whole batch.
   */
  async #write(
    table: RecordTable,
    rows: Row[],
    sources: SourceRef[],
    retries = this.#config.retry.maxRetries,
  ): Promise<DeadLetter[]> {
    try {
      await this.#retrying("insert", retries, () =>
        this.#sink.insert(table, rows, { dedupToken: dedupToken(table, sources) }),
      );
      return [];
    } catch (error) {
      // Decided per class (see the README, "Retries and failures"): a row the engine rejects, or a
      // batch the engine keeps failing under load, is split until the rows are found and
      // dead-lettered; an outage (unreachable, network) stops the worker with its offsets
      // uncommitted, since dead-lettering would empty the topics into the dead-letter topic.
      const failure = this.#abort.signal.aborted ? InsertFailure.Structural : classifyInsertFailure(error);
      if (failure === InsertFailure.Outage) throw new RetriesExhaustedError("insert", retries, error);
      if (failure === InsertFailure.Structural) throw error;
      const exhausted = failure === InsertFailure.Load;
      if (rows.length === 1) {
        return [
          {
            source: sources[0]!,
            message: null,
            row: rows[0],
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

  /** The one retry loop of an operation (the worker's sink does not retry itself). */
  async #retrying<T>(
    operation: "insert" | "dead_letter",
    maxRetries: number,
    run: () => Promise<T>,
  ): Promise<T> {
    let waiting = false;
    try {
      return await retry(run, {
        policy: { ...this.#config.retry, maxRetries },
        isRetriable: operation === "dead_letter" ? isTransientSendError : undefined,
        signal: this.#abort.signal,
        onRetry: ({ error, retry: attempt, delayMs }) => {
          if (!waiting && operation === "insert") this.#retryingInserts++;
          waiting = true;
          this.#metrics.retries.inc({ operation });
          this.#logger.warn(`${operation} failed, retrying`, { attempt, delayMs, error: messageOf(error) });
        },
      });
    } finally {
      if (waiting && operation === "insert") this.#retryingInserts--;
    }
  }

  async #sendDeadLetters(letters: readonly DeadLetter[]): Promise<void> {
    this.#activeDeadLetters++;
    try {
      this.#deadLetterPolicy.admit(letters.map((letter) => letter.source));
      const maxRetries = this.#config.retry.maxRetries;
      await this.#retrying("dead_letter", maxRetries, () => this.#deadLetters.send(letters)).catch(
        (error: unknown) => {
          throw isTransientSendError(error)
            ? new RetriesExhaustedError("dead_letter", maxRetries, error)
            : error;
        },
      );
      for (const letter of letters) {
        letter.source.offsets.markDone(letter.source.offset);
        this.#metrics.deadLetters.inc({ topic: letter.source.offsets.topic, reason: letter.reason });
        this.#metrics.recordsHandled(letter.source.offsets.topic, "dead_lettered", 1);
      }
      this.#deadLettered += letters.length;
      this.#logger.warn("records dead-lettered", {
        count: letters.length,
        deadLetterTopic: this.#deadLetters.topic,
        reasons: [...new Set(letters.map((letter) => letter.reason))],
        first: `${letters[0]!.source.offsets.topic}[${letters[0]!.source.offsets.partition}]@${letters[0]!.source.offset}`,
      });
    } catch (error) {
      if (!this.#abort.signal.aborted) this.#fail(error);
    } finally {
      this.#activeDeadLetters--;
      this.#wakeIfIdle();
    }
  }

  #collectCommits(): CommitOffset[] {
    const offsets: CommitOffset[] = [];
    for (const partition of this.#partitions.values()) {
      const offset = partition.toCommit();
      if (offset !== null)
        offsets.push({ topic: partition.topic, partition: partition.partition, offset: String(offset) });
    }
    return offsets;
  }

  async #commit(offsets: readonly CommitOffset[]): Promise<void> {
    await this.#hooks.commit(offsets);
    for (const { topic, partition, offset } of offsets) {
      this.#partitions.get(partitionKey(topic, partition))?.committedAt(Number(offset));
    }
    this.#metrics.commits.inc();
  }

  #commitSoon(): void {
    if (this.#committing !== null) {
      this.#commitAgain = true;
      return;
    }
    if (Date.now() < this.#nextCommitAt) return;
    const offsets = this.#collectCommits();
    if (offsets.length === 0) return;
    this.#committing = this.#commit(offsets)
      .then(
        () => {
          this.#commitFailures = 0;
          this.#nextCommitAt = 0;
        },
        (error: unknown) => {
          this.#commitFailures++;
          if (this.#commitFailures > this.#config.retry.maxRetries) {
            this.#fail(new RetriesExhaustedError("commit", this.#config.retry.maxRetries, error));
            return;
          }
          this.#metrics.retries.inc({ operation: "commit" });
          const delayMs = backoffDelayMs(this.#config.retry, this.#commitFailures - 1);
          this.#nextCommitAt = Date.now() + delayMs;
          this.#logger.warn("offset commit failed, retrying", { delayMs, error: messageOf(error) });
        },
      )
      .finally(() => {
        this.#committing = null;
        if (this.#commitAgain) {
          this.#commitAgain = false;
          this.#commitSoon();
        }
      });
  }

  #applyBackpressure(): void {
    const { maxBufferedBytes, maxPendingBatches } = this.#config;
    const overBytes = this.#pausedForBytes
      ? this.#bufferedBytes > maxBufferedBytes / 2
      : this.#bufferedBytes >= maxBufferedBytes;
    this.#pausedForBytes = overBytes;
    if (overBytes) this.#sealLargestWhenStuck();
    const backedUpTopics = new Set<string>();
    for (const state of this.#tables.values()) {
      if (state.queue.length >= maxPendingBatches)
        for (const topic of state.topics) backedUpTopics.add(topic);
    }
    const pause: PartitionOffsets[] = [];
    const resume: PartitionOffsets[] = [];
    for (const [key, offsets] of this.#partitions) {
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
      this.#logger.debug("pausing partitions: batches are piling up", {
        partitions: pause.length,
        bufferedBytes: this.#bufferedBytes,
      });
      this.#hooks.pause(groupByTopic(pause));
    }
    if (resume.length > 0) this.#hooks.resume(groupByTopic(resume));
    this.#metrics.pausedPartitions.set(this.#paused.size);
  }

  /** Over the byte limit with nothing sealed: only open batches hold the bytes, so insert the largest. */
  #sealLargestWhenStuck(): void {
    let largest: TableState | undefined;
    for (const state of this.#tables.values()) {
      if (state.inserting || state.queue.length > 0) return;
      if (state.open !== null && (largest === undefined || state.open.bytes > largest.open!.bytes))
        largest = state;
    }
    if (largest === undefined) return;
    this.#seal(largest);
    this.#pump();
  }

  #updateGauges(): void {
    this.#metrics.bufferedRows.set(this.#bufferedRows);
    this.#metrics.bufferedBytes.set(this.#bufferedBytes);
  }

  #idle(): boolean {
    if (this.#activeInserts > 0 || this.#activeDeadLetters > 0) return false;
    for (const state of this.#tables.values())
      if (state.open !== null || state.queue.length > 0) return false;
    return true;
  }

  #wakeIfIdle(): void {
    if (this.#failed !== null || this.#idle()) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  #fail(error: unknown): void {
    if (this.#failed !== null) return;
    this.#failed = error instanceof Error ? error : new Error(String(error));
    this.#logger.error("worker cannot go on", { error: this.#failed.message, name: this.#failed.name });
    this.#wakeIfIdle();
    this.#hooks.fail(this.#failed);
  }
}
