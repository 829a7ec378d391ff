import kafkajs from "kafkajs";
import type { Kafka, LogEntry, RecordMetadata } from "kafkajs";
import { checkKafkaTls, ConfigError, ErrorCode, securityErrorOf, TracehouseError } from "@tracehouse/schemas";
import type { Logger } from "@tracehouse/schemas";
import type { ProducerConfig } from "../config.js";
import { Compression } from "../config.js";
import { ensureTopics } from "../topics.js";
import { ensureLz4Codec } from "./lz4-codec.js";
import type { Outbound } from "./outbound.js";
import { PartitionRouter } from "./PartitionRouter.js";
import { SchemaPublisher } from "./SchemaPublisher.js";
import { SendLane } from "./SendLane.js";

const { CompressionCodecs, CompressionTypes, logLevel } = kafkajs;
type CompressionTypes = kafkajs.CompressionTypes;

const COMPRESSION_TYPES: Readonly<Record<Compression, CompressionTypes>> = {
  [Compression.None]: CompressionTypes.None,
  [Compression.Gzip]: CompressionTypes.GZIP,
  [Compression.Lz4]: CompressionTypes.LZ4,
  [Compression.Zstd]: CompressionTypes.ZSTD,
};

/** Broker answers that mean the idempotent producer's id or sequence numbers are no longer valid. */
const PRODUCER_STATE_ERRORS: ReadonlySet<string> = new Set([
  "OUT_OF_ORDER_SEQUENCE_NUMBER",
  "UNKNOWN_PRODUCER_ID",
  "INVALID_PRODUCER_EPOCH",
  "INVALID_PRODUCER_ID_MAPPING",
]);

function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 8; depth++) {
    const cause = (current as { cause?: unknown } | null)?.cause;
    if (cause === undefined || cause === null || cause === current) return current;
    current = cause;
  }
  return current;
}

/** kafkajs log lines go to the injected logger at debug level: the producer logs outages itself, once. */
function logCreator(logger: Logger) {
  return () =>
    ({ namespace, log }: LogEntry): void => {
      const { message, ...fields } = log;
      logger.debug(`kafkajs ${namespace}: ${message}`, fields);
    };
}

/** A send that left records undelivered: `unsent` (the others were acknowledged) go again, in this order. */
export class SendError extends TracehouseError {
  override readonly name: string = "SendError";
  readonly unsent: readonly Outbound[];

  constructor(message: string, unsent: readonly Outbound[], cause: unknown) {
    super(message, { code: ErrorCode.Kafka, retriable: true, cause });
    this.unsent = unsent;
  }
}

/**
 * Kafka behind the pipeline: a batch is split by partition over `sendLanes` idempotent kafkajs
 * producers sent in parallel (acks=all, one request in flight each, records keyed by trace id
 * with the Java-compatible partitioner), each owning a disjoint set of partitions so the order
 * within a partition is kept.
 */
export class KafkaTransport {
  readonly #config: ProducerConfig;
  readonly #kafka: Kafka;
  readonly #router: PartitionRouter;
  readonly #lanes: SendLane[];
  #ready = false;
  readonly #compression: CompressionTypes;
  readonly #schemas: SchemaPublisher;

  constructor(config: ProducerConfig) {
    this.#config = config;
    this.#compression = COMPRESSION_TYPES[config.compression];
    if (this.#compression !== CompressionTypes.None && this.#compression !== CompressionTypes.GZIP) {
      try {
        if (this.#compression === CompressionTypes.LZ4) ensureLz4Codec();
        const codec = (CompressionCodecs as Record<number, (() => unknown) | undefined>)[this.#compression];
        if (codec === undefined) throw new Error("no codec");
        codec();
      } catch (cause) {
        throw new ConfigError(
          `compression "${config.compression}" needs a kafkajs codec: register one in CompressionCodecs before creating the producer`,
          { cause },
        );
      }
    }
    this.#kafka =
      config.kafka ??
      new kafkajs.Kafka({
        ...config.security.clientOptions(),
        clientId: config.clientId,
        brokers: [...config.brokers],
        connectionTimeout: config.connectionTimeoutMs,
        requestTimeout: config.sendTimeoutMs,
        retry: { retries: config.sendRetries, initialRetryTime: 100, maxRetryTime: 1000 },
        logLevel: logLevel.WARN,
        logCreator: logCreator(config.logger),
      });
    this.#router = new PartitionRouter(config.sendLanes);
    this.#lanes = Array.from(
      { length: config.sendLanes },
      () => new SendLane(this.#kafka, this.#router, config.sendRetries),
    );
    this.#schemas = new SchemaPublisher(this.#kafka, config.topics.schemas, config.logger);
  }

  /**
   * Sends one batch, acks=all, over the lanes in parallel. Throws a SendError naming the records
   * not acknowledged (retriable; its cause a SecurityError when the brokers refuse the TLS
   * handshake or the login).
   *
   * kafkajs 2.2.4 keeps, across its own retries of one send, the answers of the brokers that already
   * answered; when a dead leader's partitions move to such a broker, their records are never sent,
   * yet the send resolves (kafkajs pull request 1798). So every partition a lane wrote to must be
   * in its answer, and the records of a partition that is not are sent again.
   */
  async send(records: readonly Outbound[]): Promise<void> {
    try {
      await this.#prepare(records);
    } catch (error) {
      throw this.#failure(error, records);
    }
    let pending = records;
    for (let attempt = 0; ; attempt++) {
      const byLane = this.#router.route(pending);
      const outcomes = await Promise.allSettled(
        byLane.map((lane, i) => (lane.length === 0 ? [] : this.#sendLane(i, lane))),
      );
      const failed: Outbound[] = [];
      const unanswered: Outbound[] = [];
      let error: unknown;
      for (const [i, outcome] of outcomes.entries()) {
        const lane = byLane[i] as Outbound[];
        if (outcome.status === "fulfilled") unanswered.push(...unansweredOf(lane, outcome.value));
        else {
          failed.push(...lane);
          error ??= outcome.reason;
        }
      }
      if (failed.length > 0) throw this.#failure(error, [...failed, ...unanswered]);
      if (unanswered.length === 0) return;
      if (attempt >= this.#config.sendRetries) {
        const message = `${unanswered.length} records were not acknowledged by their partition leaders`;
        throw this.#failure(new Error(message), unanswered);
      }
      this.#config.logger.warn("kafka left partitions of a batch unanswered: sending their records again", {
        records: unanswered.length,
      });
      pending = unanswered;
    }
  }

  /** Topics (when asked to ensure them), the TLS check, the first lane connected, the writer schemas published. */
  async #prepare(records: readonly Outbound[]): Promise<void> {
    if (!this.#ready) {
      if (this.#config.ensureTopics) {
        const report = await ensureTopics(this.#kafka, { topics: this.#config.topics });
        const mismatched = report.topics.filter((t) => t.mismatches.length > 0);
        if (mismatched.length > 0) {
          this.#config.logger.warn("topics exist with other settings than the catalogue's", {
            topics: mismatched,
          });
        }
      }
      if (this.#config.kafka === null)
        await checkKafkaTls(this.#config.brokers, this.#config.security, this.#config.connectionTimeoutMs);
      this.#ready = true;
    }
    await this.#learnPartitions(records);
    await this.#schemas.publishFor(await (this.#lanes[0] as SendLane).producer(), records);
  }

  /**
   * Looks up the partitions of topics not sent to before, so that even their first batch is
   * split over the lanes that will retry it: a retry on another producer would not be deduplicated.
   */
  async #learnPartitions(records: readonly Outbound[]): Promise<void> {
    const unknown = this.#router.unknownTopics(records);
    if (unknown.length === 0) return;
    const admin = this.#kafka.admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: unknown });
      for (const topic of metadata.topics) this.#router.learn(topic.name, topic.partitions);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async #sendLane(index: number, records: readonly Outbound[]): Promise<RecordMetadata[]> {
    const lane = this.#lanes[index] as SendLane;
    try {
      return await lane.send(records, {
        timeoutMs: this.#config.sendTimeoutMs,
        compression: this.#compression,
      });
    } catch (error) {
      const root = rootCause(error) as { type?: unknown; message?: unknown };
      if (typeof root?.type === "string" && PRODUCER_STATE_ERRORS.has(root.type)) {
        this.#config.logger.warn("kafka rejected the producer's sequence state: starting a new producer id", {
          error: String(root.message),
        });
        await lane.reset();
      }
      throw error;
    }
  }

  #failure(error: unknown, unsent: readonly Outbound[]): SendError {
    const refused = securityErrorOf(error, "kafka");
    if (refused !== null) return new SendError(refused.message, unsent, refused);
    return new SendError(
      `kafka send failed: ${error instanceof Error ? error.message : String(error)}`,
      unsent,
      error,
    );
  }

  async disconnect(): Promise<void> {
    await Promise.all(this.#lanes.map((lane) => lane.reset()));
  }
}

/** The records of partitions missing from the answers. */
function unansweredOf(records: readonly Outbound[], answers: readonly RecordMetadata[]): Outbound[] {
  const answered = new Map<string, Set<number>>();
  for (const { topicName, partition } of answers) {
    const partitions = answered.get(topicName);
    if (partitions === undefined) answered.set(topicName, new Set([partition]));
    else partitions.add(partition);
  }
  return records.filter(
    (record) => record.partition === undefined || answered.get(record.topic)?.has(record.partition) !== true,
  );
}
