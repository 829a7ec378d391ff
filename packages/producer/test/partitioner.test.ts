import { expect } from "chai";
import { randomBytes } from "node:crypto";
import kafkajs from "kafkajs";
import { createTraceIdPartitioner } from "@tracehouse/schemas";

describe("trace-key partitioner", () => {
  it("matches kafkajs's Java-compatible DefaultPartitioner for trace ids and other keys", () => {
    const ours = createTraceIdPartitioner();
    const theirs = kafkajs.Partitioners.DefaultPartitioner();
    const keys = [
      ...Array.from({ length: 2000 }, () => randomBytes(16).toString("hex")),
      ...Array.from({ length: 200 }, (_, i) => randomBytes(i % 23).toString("base64")),
      "",
      "ünïcödé-κλειδί-鍵",
    ];
    for (const partitions of [1, 3, 6, 24, 7]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
        partitionId,
        leader: 1,
        partitionErrorCode: 0,
        replicas: [1],
        isr: [1],
      }));
      for (const key of keys) {
        const args = { topic: "t", partitionMetadata, message: { key, value: "v" } };
        expect(ours(args), key).to.equal(theirs(args));
        expect(ours(args), `${key} cached`).to.equal(theirs(args));
      }
      for (const key of keys.slice(0, 50).map((k) => Buffer.from(k))) {
        const args = { topic: "t", partitionMetadata, message: { key, value: "v" } };
        expect(ours(args), key.toString("hex")).to.equal(theirs(args));
      }
      const pinned = {
        topic: "t",
        partitionMetadata,
        message: { key: "k", partition: partitions - 1, value: "v" },
      };
      expect(ours(pinned)).to.equal(theirs(pinned));
    }
  });
});
