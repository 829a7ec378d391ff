import { expect } from "chai";
import { randomBytes } from "node:crypto";
import kafkajs from "kafkajs";
import { murmur2, TraceKeyPartitioner } from "../src/internal/partitioner.js";

describe("trace-key partitioner", () => {
  it("matches kafkajs's Java-compatible DefaultPartitioner for trace ids and other keys", () => {
    const ours = TraceKeyPartitioner();
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
    }
  });

  it("is Kafka's murmur2 (known values of the Java client)", () => {
    // values from org.apache.kafka.common.utils.UtilsTest#testMurmur2
    expect(murmur2("21")).to.equal(-973932308);
    expect(murmur2("foobar")).to.equal(-790332482);
    expect(murmur2("a-little-bit-long-string")).to.equal(-985981536);
    expect(murmur2("a-little-bit-longer-string")).to.equal(-1486304829);
    expect(murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")).to.equal(-58897971);
    expect(murmur2("abc")).to.equal(479470107);
  });
});
