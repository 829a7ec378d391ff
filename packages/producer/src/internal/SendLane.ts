import type { Kafka, Producer as KafkaProducer, RecordMetadata, TopicMessages } from "kafkajs";
import type { Outbound } from "./outbound.js";
import type { PartitionRouter } from "./PartitionRouter.js";

export interface LaneSendOptions {
  readonly timeoutMs: number;
  readonly compression: number;
}

/**
 * One idempotent kafkajs producer (acks=all, one request in flight) sending the records of the
 * partitions its lane owns. A failed send must be retried on the same lane with the same
 * records, so the broker can drop what already arrived.
 */
export class SendLane {
  readonly #kafka: Kafka;
  readonly #router: PartitionRouter;
  readonly #retries: number;
  #producer: KafkaProducer | null = null;
  #connected: Promise<void> | null = null;

  constructor(kafka: Kafka, router: PartitionRouter, retries: number) {
    this.#kafka = kafka;
    this.#router = router;
    this.#retries = retries;
  }

  /** The connected kafkajs producer. */
  async producer(): Promise<KafkaProducer> {
    const producer = (this.#producer ??= this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: () => this.#router.partitioner,
      retry: { retries: this.#retries, initialRetryTime: 100, maxRetryTime: 1000 },
    }));
    this.#connected ??= producer.connect().catch((error: unknown) => {
      this.#connected = null;
      throw error;
    });
    await this.#connected;
    return producer;
  }

  /** Sends the records, acks=all; the broker's answers, one per partition written. */
  async send(records: readonly Outbound[], options: LaneSendOptions): Promise<RecordMetadata[]> {
    const producer = await this.producer();
    return producer.sendBatch({
      topicMessages: groupByTopic(records),
      acks: -1,
      timeout: options.timeoutMs,
      compression: options.compression,
    });
  }

  /** Drops the producer (and its id and sequence numbers); the next send starts a new one. */
  async reset(): Promise<void> {
    const producer = this.#producer;
    const connected = this.#connected;
    this.#producer = null;
    this.#connected = null;
    if (producer === null || connected === null) return;
    try {
      await connected;
      await producer.disconnect();
    } catch {
      // the new producer does not depend on the old one closing cleanly
    }
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
