import { expect } from "chai";
import { PartitionAcks, createTraceIdPartitioner } from "../src/index.js";

describe("PartitionAcks", () => {
  const partitionMetadata = [0, 1, 2].map((partitionId) => ({ partitionId, leader: partitionId }));

  it("remembers the partition its partitioner gave each message, and finds the messages of unanswered partitions", () => {
    const acks = new PartitionAcks();
    const partitioner = acks.wrap(createTraceIdPartitioner());
    const messages = [0, 1, 2].map((partition) => ({ topic: "t", key: null, partition }));
    for (const message of messages) partitioner({ topic: "t", partitionMetadata, message });
    expect(messages.map((message) => acks.partitionOf(message))).to.deep.equal([0, 1, 2]);
    const answers = [
      { topicName: "t", partition: 0 },
      { topicName: "t", partition: 2 },
      { topicName: "u", partition: 1 },
    ];
    expect(acks.unanswered(messages, (message) => message.topic, answers)).to.deep.equal([messages[1]]);
  });

  it("counts a message its partitioner never saw as unanswered", () => {
    const acks = new PartitionAcks();
    const unseen = { topic: "t" };
    expect(
      acks.unanswered([unseen], (message) => message.topic, [{ topicName: "t", partition: 0 }]),
    ).to.deep.equal([unseen]);
  });
});
