import { randomUUID } from "node:crypto";
import {
  DecodeError,
  DecodeErrorReason,
  decodeRecord,
  fingerprintOfRecord,
  registerWriterSchema,
  writerSchemaOf,
} from "@tracehouse/schemas";
import type { DecodedRecord, Logger } from "@tracehouse/schemas";
import type { Kafka } from "kafkajs";

export interface WriterSchemaResolverOptions {
  readonly kafka: Kafka;
  /** The compacted schemas topic (key: fingerprint hex, value: schema JSON). */
  readonly topic: string;
  readonly logger: Logger;
  /** How long one read of the schemas topic may take; the records wait that long at most. Default: 10000. */
  readonly timeoutMs?: number;
  /** How long a fingerprint the topic did not have is not looked up again. Default: 30000. */
  readonly retryAfterMs?: number;
  /**
   * The least time between two reads of the topic, so records with ever new fingerprints cannot
   * keep a partition waiting on reads; an unknown fingerprint met sooner is not looked up. Default: 5000.
   */
  readonly minReadIntervalMs?: number;
}

/** Fingerprints remembered as missing; past this the memory is cleared rather than grown. */
const MAX_MISSING = 10_000;

/**
 * Resolves writer schemas this worker does not ship from the schemas topic: on an unknown
 * fingerprint it reads the topic (one read at a time, bounded by a timeout, at most one per
 * `minReadIntervalMs`), registers every
 * schema the reader schemas can read, and decodes again. Fingerprints still unknown are
 * remembered for a while, so a stream of records from an unpublished schema costs one read, not
 * one per record; those records are dead-lettered and can be redriven later.
 */
export class WriterSchemaResolver {
  readonly #kafka: Kafka;
  readonly #topic: string;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #retryAfterMs: number;
  readonly #minReadIntervalMs: number;
  #nextReadAt = 0;
  readonly #missing = new Map<string, number>();
  readonly #rejected = new Set<string>();
  #reading: Promise<void> | null = null;

  constructor(options: WriterSchemaResolverOptions) {
    this.#kafka = options.kafka;
    this.#topic = options.topic;
    this.#logger = options.logger;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#retryAfterMs = options.retryAfterMs ?? 30_000;
    this.#minReadIntervalMs = options.minReadIntervalMs ?? 5000;
  }

  /**
   * Decodes `value` again after `error`, when the error is an unknown writer schema that the
   * schemas topic resolves; rethrows `error` otherwise.
   */
  async decodeAgain(value: Buffer, error: unknown): Promise<DecodedRecord> {
    if (!(error instanceof DecodeError) || error.reason !== DecodeErrorReason.UnknownFingerprint) throw error;
    const decoded = await this.resolveRecord(value);
    if (decoded === null) throw error;
    return decoded;
  }

  /** The record decoded once its writer schema is resolved from the schemas topic; null if it is not. */
  async resolveRecord(value: Buffer): Promise<DecodedRecord | null> {
    const fingerprint = fingerprintOfRecord(value);
    if (fingerprint === null || !(await this.resolve(fingerprint))) return null;
    try {
      return decodeRecord(value);
    } catch {
      return null;
    }
  }

  /** True once the fingerprint's writer schema is known to this process. */
  async resolve(fingerprint: string): Promise<boolean> {
    if (writerSchemaOf(fingerprint) !== null) return true;
    const retryAt = this.#missing.get(fingerprint);
    if (retryAt !== undefined && Date.now() < retryAt) return false;
    if (this.#reading === null && Date.now() < this.#nextReadAt) return this.#markMissing(fingerprint);
    this.#reading ??= this.#read().finally(() => {
      this.#reading = null;
      this.#nextReadAt = Date.now() + this.#minReadIntervalMs;
    });
    await this.#reading;
    return writerSchemaOf(fingerprint) !== null || this.#markMissing(fingerprint);
  }

  #markMissing(fingerprint: string): false {
    if (this.#missing.size >= MAX_MISSING) this.#missing.clear();
    this.#missing.set(fingerprint, Date.now() + this.#retryAfterMs);
    return false;
  }

  async #read(): Promise<void> {
    const started = Date.now();
    let registered = 0;
    try {
      const ends = await this.#endOffsets();
      if (ends.size === 0) return;
      await this.#consume(ends, (key, value) => {
        if (this.#register(key, value)) registered++;
      });
    } catch (error) {
      this.#logger.warn("could not read the schemas topic", {
        topic: this.#topic,
        error: error instanceof Error ? error.message : String(error),
      });
    } finally {
      this.#logger.info("schemas topic read", { topic: this.#topic, registered, ms: Date.now() - started });
    }
  }

  #register(key: Buffer | null, value: Buffer | null): boolean {
    const fingerprint = key?.toString("utf8") ?? "";
    if (value === null || writerSchemaOf(fingerprint) !== null || this.#rejected.has(fingerprint))
      return false;
    try {
      registerWriterSchema(value.toString("utf8"), { expectedFingerprint: fingerprint });
      this.#missing.delete(fingerprint);
      return true;
    } catch (error) {
      if (this.#rejected.size < MAX_MISSING) this.#rejected.add(fingerprint);
      this.#logger.warn("writer schema rejected: its records stay dead letters", {
        topic: this.#topic,
        fingerprint: fingerprint.slice(0, 64),
        error: error instanceof Error ? error.message : String(error),
      });
      return false;
    }
  }

  /** The end offset of every non-empty partition; empty when the topic is empty or missing. */
  async #endOffsets(): Promise<Map<number, number>> {
    const admin = this.#kafka.admin();
    await admin.connect();
    try {
      if (!(await admin.listTopics()).includes(this.#topic)) {
        this.#logger.warn("the schemas topic does not exist: unknown writer schemas cannot be resolved", {
          topic: this.#topic,
        });
        return new Map();
      }
      const offsets = await admin.fetchTopicOffsets(this.#topic);
      return new Map(
        offsets
          .filter(({ low, high }) => Number(high) > Number(low))
          .map(({ partition, high }) => [partition, Number(high)]),
      );
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Reads every partition up to its end offset with a throwaway group, within the timeout. */
  async #consume(ends: Map<number, number>, onMessage: (key: Buffer | null, value: Buffer | null) => void) {
    const groupId = `tracehouse-schemas-reader-${randomUUID()}`;
    const consumer = this.#kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
    const remaining = new Set(ends.keys());
    let finish!: () => void;
    const complete = new Promise<void>((resolve) => (finish = resolve));
    const timer = setTimeout(finish, this.#timeoutMs);
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.#topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const end = ends.get(batch.partition) ?? 0;
          for (const message of batch.messages) {
            if (Number(message.offset) < end) onMessage(message.key, message.value);
          }
          if (Number(batch.lastOffset()) >= end - 1 && remaining.delete(batch.partition)) {
            consumer.pause([{ topic: this.#topic, partitions: [batch.partition] }]);
          }
          if (remaining.size === 0) finish();
        },
      });
      await complete;
      if (remaining.size > 0) {
        this.#logger.warn("the schemas topic was not read to its end in time", {
          topic: this.#topic,
          timeoutMs: this.#timeoutMs,
        });
      }
    } finally {
      clearTimeout(timer);
      await consumer.disconnect().catch(() => undefined);
      const admin = this.#kafka.admin();
      await admin
        .connect()
        .then(() => admin.deleteGroups([groupId]))
        .catch(() => undefined)
        .finally(() => admin.disconnect());
    }
  }
}
