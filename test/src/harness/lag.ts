import type { Kafka } from "kafkajs";
import { pollUntil } from "./poll.js";

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** Offset of the next record to be written. */
  readonly high: number;
  /** The group's committed offset, or the partition's low watermark when the group committed none. */
  readonly committed: number;
  readonly lag: number;
}

export interface ConsumerLag {
  /** Records written to the topics and not yet committed by the group. */
  readonly total: number;
  readonly partitions: readonly PartitionLag[];
}

/** The consumer group's lag on `topics`, from the brokers' watermarks and the group's committed offsets. */
export async function consumerLag(
  kafka: Kafka,
  groupId: string,
  topics: readonly string[],
): Promise<ConsumerLag> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
    const partitions: PartitionLag[] = [];
    for (const topic of topics) {
      const watermarks = await admin.fetchTopicOffsets(topic);
      const group = committed.find((entry) => entry.topic === topic)?.partitions ?? [];
      for (const mark of watermarks) {
        const high = Number(mark.high);
        const offset = Number(group.find((p) => p.partition === mark.partition)?.offset ?? -1);
        const from = offset >= 0 ? offset : Number(mark.low);
        partitions.push({
          topic,
          partition: mark.partition,
          high,
          committed: from,
          lag: Math.max(0, high - from),
        });
      }
    }
    return { total: partitions.reduce((sum, p) => sum + p.lag, 0), partitions };
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until the group has committed every record written to `topics` before the call. The worker
 * commits after an insert has finished, so by then every view that insert feeds is written too: a
 * row can be visible in its record table a moment before the materialized views of the same insert.
 */
export async function waitUntilCommitted(
  kafka: Kafka,
  groupId: string,
  topics: readonly string[],
  options: { readonly timeoutMs?: number } = {},
): Promise<void> {
  const written = (await consumerLag(kafka, groupId, topics)).partitions;
  let behind = written;
  await pollUntil(
    async () => {
      const now = (await consumerLag(kafka, groupId, topics)).partitions;
      behind = written.filter(
        (mark) =>
          (now.find((p) => p.topic === mark.topic && p.partition === mark.partition)?.committed ?? -1) <
          mark.high,
      );
      return behind.length === 0 ? true : undefined;
    },
    {
      what: `group ${groupId} to commit what was written`,
      timeoutMs: options.timeoutMs,
      intervalMs: 50,
      describe: () => behind.map((p) => `${p.topic}[${p.partition}] < ${p.high}`).join(", "),
    },
  );
}
