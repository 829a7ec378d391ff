import { randomUUID } from "node:crypto";
import type { Kafka, KafkaMessage } from "kafkajs";
import { deleteGroup } from "./kafka-client.js";
import { groupByTopic, partitionKey } from "./source.js";

export interface RecordAddress {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export function addressKey({ topic, partition, offset }: RecordAddress): string {
  return `${partitionKey(topic, partition)}@${offset}`;
}

/**
 * Reads records back from Kafka by address, with a throwaway consumer group that seeks to the
 * wanted offsets and fetches only their partitions. The worker keeps no record bytes while rows
 * wait for their insert; the rare rows ClickHouse rejects are read again to dead-letter them as
 * they were. Resolves with the records found within `timeoutMs` (a record already removed by
 * retention is missing from the result).
 */
export async function readOriginals(
  kafka: Kafka,
  wanted: readonly RecordAddress[],
  timeoutMs: number,
): Promise<Map<string, KafkaMessage>> {
  const found = new Map<string, KafkaMessage>();
  if (wanted.length === 0) return found;
  const remaining = new Set(wanted.map(addressKey));
  const first = new Map<string, RecordAddress>();
  const last = new Map<string, number>();
  for (const address of wanted) {
    const key = partitionKey(address.topic, address.partition);
    if ((first.get(key)?.offset ?? Infinity) > address.offset) first.set(key, address);
    last.set(key, Math.max(last.get(key) ?? -1, address.offset));
  }
  const groupId = `tracehouse-dlq-reader-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  let finish!: () => void;
  const complete = new Promise<void>((resolve) => (finish = resolve));
  const timer = setTimeout(finish, timeoutMs);
  try {
    await consumer.connect();
    await consumer.subscribe({
      topics: [...new Set(wanted.map((address) => address.topic))],
      fromBeginning: true,
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const unwanted: { topic: string; partition: number }[] = [];
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const partition of partitions) {
          const start = first.get(partitionKey(topic, partition));
          if (start === undefined) unwanted.push({ topic, partition });
          else consumer.seek({ topic, partition, offset: String(start.offset) });
        }
      }
      if (unwanted.length > 0) consumer.pause(groupByTopic(unwanted));
    });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const key = partitionKey(batch.topic, batch.partition);
        const end = last.get(key);
        if (end === undefined) return;
        for (const message of batch.messages) {
          const address = { topic: batch.topic, partition: batch.partition, offset: Number(message.offset) };
          if (remaining.delete(addressKey(address))) found.set(addressKey(address), message);
        }
        if (Number(batch.lastOffset()) >= end)
          consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
        if (remaining.size === 0) finish();
      },
    });
    await complete;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
    await deleteGroup(kafka, groupId);
  }
  return found;
}
