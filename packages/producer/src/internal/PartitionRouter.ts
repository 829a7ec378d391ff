import { createTraceIdPartitioner } from "@tracehouse/schemas";
import type { Partitioner, PartitionerInput } from "@tracehouse/schemas";
import type { Outbound } from "./outbound.js";

type PartitionMetadata = PartitionerInput["partitionMetadata"];

/**
 * Which partition each record goes to, and which send lane owns that partition: partition p
 * belongs to lane p mod lanes, so every partition is written by one lane, in order. A topic's
 * partitions are learnt before its first send, then kept up to date from the metadata kafkajs
 * hands the lanes' partitioners. Records of a topic not known (yet) go to lane 0 and kafkajs
 * chooses (the same Java-compatible choice by trace id).
 */
export class PartitionRouter {
  readonly #lanes: number;
  readonly #choose: Partitioner = createTraceIdPartitioner();
  readonly #partitions = new Map<string, PartitionMetadata>();

  constructor(lanes: number) {
    this.#lanes = lanes;
  }

  /** The topics of `records` whose partitions are not known. */
  unknownTopics(records: readonly Outbound[]): string[] {
    const unknown = new Set<string>();
    for (const record of records) if (!this.#partitions.has(record.topic)) unknown.add(record.topic);
    return [...unknown];
  }

  learn(topic: string, partitionMetadata: PartitionMetadata): void {
    if (partitionMetadata.length > 0) this.#partitions.set(topic, partitionMetadata);
  }

  /** The partitioner of a lane's kafkajs producer: learns the topic's partitions and notes the choice on the record. */
  readonly partitioner: Partitioner = (input) => {
    this.learn(input.topic, input.partitionMetadata);
    const partition = this.#choose(input);
    (input.message as Outbound).partition = partition;
    return partition;
  };

  /** Sets the partition of each record whose topic's partitions are known and groups the records by lane, in order. */
  route(records: readonly Outbound[]): Outbound[][] {
    const byLane: Outbound[][] = Array.from({ length: this.#lanes }, () => []);
    const lane0 = byLane[0] as Outbound[];
    for (const record of records) {
      record.partition = undefined;
      const partitionMetadata = this.#partitions.get(record.topic);
      if (partitionMetadata === undefined) {
        lane0.push(record);
        continue;
      }
      const partition = this.#choose({ topic: record.topic, partitionMetadata, message: record });
      record.partition = partition;
      (byLane[partition % this.#lanes] as Outbound[]).push(record);
    }
    return byLane;
  }
}
