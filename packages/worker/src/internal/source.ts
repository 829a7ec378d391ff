import type { IHeaders } from "kafkajs";
import type { PartitionOffsets } from "./PartitionOffsets.js";

/**
 * A record on its way to a table: where it came from. Its bytes are not kept; the rare record
 * whose row ClickHouse rejects is read back from Kafka to be dead-lettered.
 */
export interface SourceRef {
  readonly offsets: PartitionOffsets;
  readonly offset: number;
}

/** What a dead letter needs of the consumed message. */
export interface SourceMessage {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: IHeaders;
  readonly timestamp: string;
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
