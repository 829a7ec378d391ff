import type { KafkaMessage } from "kafkajs";
import type { PartitionOffsets } from "./PartitionOffsets.js";

/** A consumed record on its way to a table or the dead-letter topic. */
export interface SourceRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly message: KafkaMessage;
  /** Record bytes: value plus key. */
  readonly bytes: number;
  readonly offsets: PartitionOffsets;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: number[];
}

export function groupByTopic(
  list: Iterable<{ readonly topic: string; readonly partition: number }>,
): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of list) {
    let partitions = byTopic.get(topic);
    if (partitions === undefined) byTopic.set(topic, (partitions = []));
    partitions.push(partition);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}

export function parsePartitionKey(key: string): { topic: string; partition: number } {
  const at = key.lastIndexOf("\u0000");
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}
