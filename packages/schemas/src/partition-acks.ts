/** What a Kafka client answers for each partition a send wrote to (kafkajs's `RecordMetadata` has this shape). */
export interface PartitionAnswer {
  readonly topicName: string;
  readonly partition: number;
}

/**
 * Which partition each message of a send went to, and which messages no partition leader
 * acknowledged. kafkajs 2.2.4 can resolve a send without writing some of its partitions: across its
 * own retries it keeps the answers of the brokers that already answered, so a dead leader's
 * partitions that moved to one of them are never sent (kafkajs pull request 1798), and a partition
 * missing from its metadata is skipped without a word. A send is complete only when every partition
 * it wrote to is in the answer.
 */
export class PartitionAcks {
  readonly #partitionOf = new WeakMap<object, number>();

  /** The partitioner, remembering (weakly) the partition it gives each message. */
  wrap<A extends { readonly message: object }>(partitioner: (args: A) => number): (args: A) => number {
    return (args) => {
      const partition = partitioner(args);
      this.#partitionOf.set(args.message, partition);
      return partition;
    };
  }

  /** The partition the wrapped partitioner gave `message`; undefined when it never saw it. */
  partitionOf(message: object): number | undefined {
    return this.#partitionOf.get(message);
  }

  /**
   * The messages whose partition the answer does not name (a message the partitioner never saw
   * counts as unanswered): they were not written and must be sent again.
   */
  unanswered<T extends object>(
    messages: readonly T[],
    topicOf: (message: T) => string,
    answers: readonly PartitionAnswer[],
  ): T[] {
    const answered = new Set(answers.map((answer) => `${answer.topicName}\u0000${answer.partition}`));
    return messages.filter((message) => {
      const partition = this.#partitionOf.get(message);
      return partition === undefined || !answered.has(`${topicOf(message)}\u0000${partition}`);
    });
  }
}
