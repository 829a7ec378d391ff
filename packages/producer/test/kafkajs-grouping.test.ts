// The producer puts a linear `groupMessagesPerPartition` in kafkajs's place (kafkajs's own is
// quadratic per partition): it must group exactly as kafkajs does, and kafkajs must really use it.
import { expect } from "chai";
import { groupMessagesPerPartition } from "../src/internal/kafkajs-grouping.js";
import { kafkajsOriginal, runFresh } from "./helpers/kafkajs-original.js";

/** kafkajs's own function, compiled from its file (the module cache may hold the linear one). */
const kafkajsGrouping = (): typeof groupMessagesPerPartition =>
  kafkajsOriginal("producer/groupMessagesPerPartition.js");

describe("kafkajs's per-partition grouping", () => {
  it("groups like kafkajs: same partitions, same order within each", () => {
    const original = kafkajsGrouping();
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (const [count, partitions] of [
      [0, 3],
      [1, 1],
      [500, 6],
      [2000, 2],
    ] as const) {
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId }));
      const messages = Array.from({ length: count }, (_, i) => ({
        value: `m${i}`,
        partition: random(partitions),
      }));
      const args = {
        topic: "t",
        partitionMetadata,
        messages,
        partitioner: ({ message }: { message: unknown }) => (message as { partition: number }).partition,
      };
      expect(groupMessagesPerPartition(args)).to.deep.equal(original(args));
    }
    const none = { topic: "t", partitionMetadata: [], messages: [{ value: "x" }], partitioner: () => 0 };
    expect(groupMessagesPerPartition(none)).to.deep.equal(original(none));
  });

  it("is the function kafkajs's sender uses once the producer is imported first", () => {
    const out = runFresh(`
      import { createRequire } from "node:module";
      const { linearGrouping } = await import("@tracehouse/producer");
      const require = createRequire(import.meta.url);
      const sender = require.cache[require.resolve("kafkajs/src/producer/sendMessages.js")];
      const grouping = require.cache[require.resolve("kafkajs/src/producer/groupMessagesPerPartition.js")];
      const used = sender.children.includes(grouping);
      console.log(JSON.stringify({ linearGrouping, used, linear: !grouping.exports.toString().includes("...current") }));
    `);
    expect(JSON.parse(out)).to.deep.equal({ linearGrouping: "installed", used: true, linear: true });
  });

  it("leaves kafkajs as it is when the application loaded kafkajs first", () => {
    const out = runFresh(`
      await import("kafkajs");
      const { linearGrouping } = await import("@tracehouse/producer");
      console.log(linearGrouping);
    `);
    expect(out).to.equal("kafkajs-loaded-first");
  });
});
