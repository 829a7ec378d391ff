import { expect } from "chai";
import { consumeUntil, testTopics, uniqueName, type TestTopics } from "../src/index.js";

describe("consumeUntil", () => {
  let topics: TestTopics;
  let topic: string;

  before(async () => {
    topics = await testTopics();
    topic = await topics.create("until");
    const producer = topics.kafka.producer({ idempotent: true });
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages: ["1", "2", "3"].map((value) => ({ value })) });
    } finally {
      await producer.disconnect();
    }
  });

  after(async () => {
    await topics.cleanup();
  });

  const consumer = () => topics.kafka.consumer({ groupId: uniqueName("until"), maxWaitTimeInMs: 100 });

  it("reads from the beginning until the handler says done, and commits nothing itself", async () => {
    const groupId = uniqueName("until");
    const seen: string[] = [];
    await consumeUntil(
      topics.kafka.consumer({ groupId, maxWaitTimeInMs: 100 }),
      [topic],
      async ({ batch }) => {
        seen.push(...batch.messages.map((m) => String(m.value)));
        return seen.length >= 3;
      },
    );
    expect(seen).to.deep.equal(["1", "2", "3"]);
    const admin = topics.kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      expect(offsets!.partitions.map((p) => p.offset)).to.deep.equal(["-1"]);
    } finally {
      await admin.disconnect();
    }
  });

  it("rejects with the handler's error", async () => {
    const failed = await consumeUntil(consumer(), [topic], () => Promise.reject(new Error("boom"))).catch(
      (error: unknown) => error,
    );
    expect(failed).to.be.instanceOf(Error).with.property("message", "boom");
  });

  it("rejects with the timeout's error when the handler never says done", async () => {
    const started = Date.now();
    const failed = await consumeUntil(consumer(), [topic], () => Promise.resolve(false), {
      ms: 1_000,
      error: () => new Error("too slow"),
    }).catch((error: unknown) => error);
    expect(failed).to.be.instanceOf(Error).with.property("message", "too slow");
    expect(Date.now() - started).to.be.lessThan(15_000);
  });
});
