import { createTopicCatalogue } from "@tracehouse/schemas";
import type { TopicCatalogue } from "@tracehouse/schemas";
import type { Admin } from "kafkajs";

/** Creates every topic of a catalogue with `prefix` (record topics with `partitions`, the dead-letter topic with one). */
export async function createPipelineTopics(
  admin: Admin,
  prefix: string,
  partitions: number,
): Promise<TopicCatalogue> {
  const catalogue = createTopicCatalogue({ prefix });
  await admin.createTopics({
    waitForLeaders: true,
    topics: catalogue.all.map((spec) => ({
      topic: spec.name,
      numPartitions: spec.recordType === null ? 1 : partitions,
      replicationFactor: 1,
    })),
  });
  return catalogue;
}

/** The record topics of a catalogue (the dead-letter topic left out). */
export function recordTopics(catalogue: TopicCatalogue): string[] {
  return catalogue.all.filter((spec) => spec.recordType !== null).map((spec) => spec.name);
}
