import kafkajs from "kafkajs";
import type { Kafka, LogEntry, Producer as KafkaProducer, RecordMetadata, TopicMessages } from "kafkajs";
import {
  checkKafkaTls,
  ConfigError,
  createTraceIdPartitioner,
  ErrorCode,
  PartitionAcks,
  securityErrorOf,
  TracehouseError,
} from "@tracehouse/schemas";
import type { Logger } from "@tracehouse/schemas";
import type { ProducerConfig } from "../config.js";
import { Compression } from "../config.js";
import { ensureTopics } from "../topics.js";
import { ensureLz4Codec } from "./lz4-codec.js";
import type { Outbound } from "./outbound.js";
import { SchemaPublisher } from "./SchemaPublisher.js";

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

/**
 * The idempotent kafkajs producer behind the pipeline: acks=all, one request in flight,
 * records keyed by trace id with the Java-compatible partitioner. A failed batch must be
 * retried as the same batch so the broker can drop what already arrived.
 */
export class KafkaTransport {
  readonly #config: ProducerConfig;
  readonly #kafka: Kafka;
  #producer: KafkaProducer | null = null;
  #connected = false;
  #topicsEnsured = false;
  readonly #compression: CompressionTypes;
  /** The partition kafkajs's partitioner chose for each record, to check every one was answered. */
  readonly #acks = new PartitionAcks();
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
    this.#schemas = new SchemaPublisher(this.#kafka, config.topics.schemas, config.logger);
  }

  #producerInstance(): KafkaProducer {
    this.#producer ??= this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: () => this.#acks.wrap(createTraceIdPartitioner()),
      retry: { retries: this.#config.sendRetries, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    return this.#producer;
  }

  /**
   * Sends one batch, acks=all. Throws a SecurityError (not retriable) when the brokers refuse the
   * TLS handshake or the login, else a TracehouseError (code KAFKA) when kafkajs gives up.
   *
   * kafkajs 2.2.4 keeps, across its own retries of one send, the answers of the brokers that already
   * answered; when a dead leader's partitions move to such a broker, their records are never sent,
   * yet the send resolves (kafkajs pull request 1798). So every partition the batch wrote to must be
   * in the answer, and the records of a partition that is not are sent again.
   */
  async send(records: readonly Outbound[]): Promise<void> {
    const producer = this.#producerInstance();
    try {
      if (this.#config.ensureTopics && !this.#topicsEnsured) {
        const report = await ensureTopics(this.#kafka, { topics: this.#config.topics });
        this.#topicsEnsured = true;
        const mismatched = report.topics.filter((t) => t.mismatches.length > 0);
        if (mismatched.length > 0) {
          this.#config.logger.warn("topics exist with other settings than the catalogue's", {
            topics: mismatched,
          });
        }
      }
      if (!this.#connected) {
        if (this.#config.kafka === null)
          await checkKafkaTls(this.#config.brokers, this.#config.security, this.#config.connectionTimeoutMs);
        await producer.connect();
        this.#connected = true;
      }
      await this.#schemas.publishFor(producer, records);
      let unanswered = records;
      for (let attempt = 0; unanswered.length > 0; attempt++) {
        if (attempt > this.#config.sendRetries) {
          throw new Error(`${unanswered.length} records were not acknowledged by their partition leaders`);
        }
        const answers = await producer.sendBatch({
          topicMessages: groupByTopic(unanswered),
          acks: -1,
          timeout: this.#config.sendTimeoutMs,
          compression: this.#compression,
        });
        unanswered = this.#unanswered(unanswered, answers);
        if (unanswered.length > 0) {
          this.#config.logger.warn(
            "kafka left partitions of a batch unanswered: sending their records again",
            {
              records: unanswered.length,
            },
          );
        }
      }
    } catch (error) {
      const refused = securityErrorOf(error, "kafka");
      if (refused !== null) throw refused;
      const root = rootCause(error) as { type?: unknown; message?: unknown };
      if (typeof root?.type === "string" && PRODUCER_STATE_ERRORS.has(root.type)) {
        this.#config.logger.warn("kafka rejected the producer's sequence state: starting a new producer id", {
          error: String(root.message),
        });
        await this.#reset();
      }
      throw new TracehouseError(
        `kafka send failed: ${error instanceof Error ? error.message : String(error)}`,
        {
          code: ErrorCode.Kafka,
          retriable: true,
          cause: error,
        },
      );
    }
  }

  #unanswered(records: readonly Outbound[], answers: readonly RecordMetadata[]): Outbound[] {
    return this.#acks.unanswered(records, (record) => record.topic, answers);
  }

  async #reset(): Promise<void> {
    const producer = this.#producer;
    this.#producer = null;
    this.#connected = false;
    try {
      await producer?.disconnect();
    } catch {
      // the new producer does not depend on the old one closing cleanly
    }
  }

  async disconnect(): Promise<void> {
    await this.#reset();
  }
}

function groupByTopic(records: readonly Outbound[]): TopicMessages[] {
  const byTopic = new Map<string, Outbound[]>();
  for (const record of records) {
    const list = byTopic.get(record.topic);
    if (list === undefined) byTopic.set(record.topic, [record]);
    else list.push(record);
  }
  const topicMessages: TopicMessages[] = [];
  for (const [topic, messages] of byTopic)
    topicMessages.push({ topic, messages: messages as TopicMessages["messages"] });
  return topicMessages;
}
