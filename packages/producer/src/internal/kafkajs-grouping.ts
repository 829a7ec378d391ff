// kafkajs 2.2.4 groups a send's messages by partition with `[...current, message]` per message
// (src/producer/groupMessagesPerPartition.js): quadratic in the messages per partition. For a
// batch of 4,000 records over two partitions that is ~24 µs per record, more than encoding,
// compressing and sending it together. The fix upstream (kafkajs pull request 1576, linear,
// same result) is not released, so this module puts the same linear function in its place: in
// Node's module cache, before kafkajs loads the file that requires it. It must be imported before
// anything imports kafkajs (the package's entry point imports it first). When kafkajs was loaded
// earlier, by the application, nothing is changed and kafkajs works as it always did, only slower.
import { replaceKafkajsModule } from "./kafkajs-module.js";
import type { ReplacementState } from "./kafkajs-module.js";

type Partitioner = (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number;

interface GroupArgs {
  readonly topic: string;
  readonly partitionMetadata: unknown[];
  readonly messages: readonly unknown[];
  readonly partitioner: Partitioner;
}

/** kafkajs's `groupMessagesPerPartition`, in one pass: messages keep their order within a partition. */
export function groupMessagesPerPartition(args: GroupArgs): Record<number, unknown[]> {
  const { topic, partitionMetadata, messages, partitioner } = args;
  const grouped: Record<number, unknown[]> = {};
  if (partitionMetadata.length === 0) return grouped;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (grouped[partition] ??= []).push(message);
  }
  return grouped;
}

/** What {@link installLinearGrouping} found. */
export type GroupingState = ReplacementState;

/** Puts {@link groupMessagesPerPartition} in kafkajs's place; idempotent. */
export function installLinearGrouping(): GroupingState {
  return replaceKafkajsModule(
    "producer/groupMessagesPerPartition.js",
    "producer/sendMessages.js",
    groupMessagesPerPartition,
  );
}

export const linearGrouping: GroupingState = installLinearGrouping();
