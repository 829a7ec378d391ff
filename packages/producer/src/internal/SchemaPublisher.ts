import { fingerprintOfRecord, sameRecordHeader, writerSchemaOf } from "@tracehouse/schemas";
import type { Logger, WriterSchema } from "@tracehouse/schemas";
import type { Kafka, Producer as KafkaProducer } from "kafkajs";
import type { Outbound } from "./outbound.js";

/** Header naming the record type of a message in the schemas topic. */
export const SCHEMA_RECORD_TYPE_HEADER = "tracehouse-record-type";
/** How long a producer that found no schemas topic waits before looking again. */
const MISSING_TOPIC_RECHECK_MS = 5 * 60 * 1000;

/**
 * Publishes each writer schema this process sends records with to the compacted schemas topic
 * (key: fingerprint hex, value: the schema JSON), once, before the first batch holding such a
 * record, so that readers that do not know the schema yet can resolve it. A deployment without
 * the schemas topic gets one warning and its records are sent all the same.
 */
export class SchemaPublisher {
  readonly #kafka: Kafka;
  readonly #topic: string;
  readonly #logger: Logger;
  readonly #published = new Set<string>();
  #topicExists = false;
  #recheckAt = 0;

  constructor(kafka: Kafka, topic: string, logger: Logger) {
    this.#kafka = kafka;
    this.#topic = topic;
    this.#logger = logger;
  }

  /** Sends the schemas of `records` not yet published, acks=all; throws what the send throws. */
  async publishFor(producer: KafkaProducer, records: readonly Outbound[]): Promise<void> {
    const wanted = this.#unpublished(records);
    if (wanted.length === 0 || !(await this.#ready())) return;
    await producer.send({
      topic: this.#topic,
      acks: -1,
      messages: wanted.map((schema) => ({
        key: schema.fingerprint,
        value: schema.json,
        headers: { [SCHEMA_RECORD_TYPE_HEADER]: schema.recordType },
      })),
    });
    for (const schema of wanted) this.#published.add(schema.fingerprint);
    this.#logger.debug("writer schemas published", {
      topic: this.#topic,
      fingerprints: wanted.map((schema) => schema.fingerprint),
    });
  }

  #unpublished(records: readonly Outbound[]): WriterSchema[] {
    let wanted: Map<string, WriterSchema> | undefined;
    let previous: Buffer | null = null;
    for (const record of records) {
      // a record with the previous record's header has its fingerprint: decided already
      const value = record.value;
      if (previous !== null && sameRecordHeader(value, previous)) continue;
      previous = value;
      const fingerprint = fingerprintOfRecord(value);
      if (fingerprint === null || this.#published.has(fingerprint) || wanted?.has(fingerprint) === true)
        continue;
      const schema = writerSchemaOf(fingerprint);
      if (schema !== null) (wanted ??= new Map()).set(fingerprint, schema);
    }
    return wanted === undefined ? [] : [...wanted.values()];
  }

  /** Whether the schemas topic exists; looked up once (again after a while when it was missing). */
  async #ready(): Promise<boolean> {
    if (this.#topicExists) return true;
    if (Date.now() < this.#recheckAt) return false;
    const admin = this.#kafka.admin();
    await admin.connect();
    try {
      this.#topicExists = (await admin.listTopics()).includes(this.#topic);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (!this.#topicExists) {
      this.#recheckAt = Date.now() + MISSING_TOPIC_RECHECK_MS;
      this.#logger.warn(
        "the schemas topic does not exist: records are sent, but readers older than this producer cannot resolve its schemas until it is created",
        { topic: this.#topic },
      );
    }
    return this.#topicExists;
  }
}
