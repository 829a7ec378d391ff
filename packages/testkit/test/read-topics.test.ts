import { expect } from "chai";
import { readTopics, testTopics, type TestTopics } from "../src/index.js";

describe("readTopics", () => {
  let topics: TestTopics;

  before(async () => {
    topics = await testTopics();
  });

  after(async () => {
    await topics.cleanup();
  });

  it("reads every topic from the beginning, with each message's topic and partition, and the extra ones beyond count", async () => {
    const first = await topics.create("read_a", { numPartitions: 2 });
    const second = await topics.create("read_b");
    const producer = topics.kafka.producer({ idempotent: true });
    await producer.connect();
    try {
      await producer.send({
        topic: first,
        acks: -1,
        messages: [
          { key: "k", value: "a1" },
          { key: "k", value: "a2" },
        ],
      });
      await producer.send({ topic: second, acks: -1, messages: [{ value: "b1" }] });
    } finally {
      await producer.disconnect();
    }

    const read = await readTopics(topics.kafka, [first, second], 2, 10_000);

    const seen = read.map(({ topic, message }) => `${topic === first ? "a" : "b"}:${String(message.value)}`);
    expect(seen.sort()).to.deep.equal(["a:a1", "a:a2", "b:b1"]);
    const partitions = new Set(read.filter((r) => r.topic === first).map((r) => r.partition));
    expect(partitions.size, "one key, one partition").to.equal(1);
  });

  it("returns what arrived when fewer than count messages come in time", async () => {
    const topic = await topics.create("read_short");
    const started = Date.now();
    const read = await readTopics(topics.kafka, [topic], 1, 1_000);
    expect(read).to.deep.equal([]);
    expect(Date.now() - started).to.be.lessThan(8_000);
  });
});
