import type { Kafka } from "kafkajs";
import { createTopicCatalogue, DEFAULT_TOPICS } from "@tracehouse/schemas";
import type { TopicCatalogue, TopicFamily, TopicOverrides } from "@tracehouse/schemas";
import { waitForLeaders } from "@tracehouse/testkit";

export interface CatalogueTopicsOptions {
  /** Topic name prefix. */
  readonly prefix: string;
  /** Partitions of every topic. Default: the catalogue's recommended partitions per family. */
  readonly partitions?: number;
  /** Replicas of every topic. Default: 1 (one broker); 3 on the three-node cluster. */
  readonly replicationFactor?: number;
  /** Extra topic configuration for every topic, e.g. min.insync.replicas on the cluster. */
  readonly configEntries?: readonly { readonly name: string; readonly value: string }[];
}

/** The catalogue for `prefix`, with every topic (record topics and dead-letter topic) created and led. */
export async function createCatalogueTopics(
  kafka: Kafka,
  options: CatalogueTopicsOptions,
): Promise<TopicCatalogue> {
  const overrides: Partial<Record<TopicFamily, TopicOverrides>> = {};
  if (options.partitions !== undefined) {
    for (const family of Object.keys(DEFAULT_TOPICS) as TopicFamily[]) {
      overrides[family] = { partitions: options.partitions };
    }
  }
  const catalogue = createTopicCatalogue({ prefix: options.prefix, overrides });
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Leaders are awaited by polling metadata: kafkajs's own wait gives up on the "unknown topic"
    // answers a cluster gives while the new topic propagates to every broker.
    await admin.createTopics({
      waitForLeaders: false,
      topics: catalogue.all.map((spec) => ({
        topic: spec.name,
        numPartitions: spec.partitions,
        replicationFactor: options.replicationFactor ?? 1,
        configEntries: [...spec.configEntries, ...(options.configEntries ?? [])].map((entry) => ({
          ...entry,
        })),
      })),
    });
    for (const spec of catalogue.all) await waitForLeaders(admin, spec.name);
  } finally {
    await admin.disconnect();
  }
  return catalogue;
}

export async function deleteCatalogueTopics(kafka: Kafka, catalogue: TopicCatalogue): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: catalogue.all.map((spec) => spec.name) });
  } finally {
    await admin.disconnect();
  }
}
