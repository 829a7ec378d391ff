import { expect } from "chai";
import { createTraceIdPartitioner, murmur2, partitionOf } from "../src/index.js";
import type { PartitionerInput } from "../src/index.js";

function metadata(leaders: readonly number[]): PartitionerInput["partitionMetadata"] {
  return leaders.map((leader, partitionId) => ({ partitionId, leader }));
}

describe("trace-id partitioner", () => {
  it("is Kafka's murmur2 (known values of the Java client)", () => {
    // values from org.apache.kafka.common.utils.UtilsTest#testMurmur2
    expect(murmur2("21")).to.equal(-973932308);
    expect(murmur2("foobar")).to.equal(-790332482);
    expect(murmur2("a-little-bit-long-string")).to.equal(-985981536);
    expect(murmur2("a-little-bit-longer-string")).to.equal(-1486304829);
    expect(murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")).to.equal(-58897971);
    expect(murmur2("abc")).to.equal(479470107);
  });

  it("hashes a string key's UTF-8 bytes", () => {
    for (const key of ["", "abc", "4bf92f3577b34da6a3ce929d0e0e4736", "ünïcödé-κλειδί-鍵"]) {
      expect(murmur2(key), key).to.equal(murmur2(Buffer.from(key, "utf8")));
      expect(partitionOf(key, 7), key).to.equal((murmur2(key) & 0x7fffffff) % 7);
    }
  });

  it("sends keyed records to partitionOf(key), the same for string and byte keys, cached or not", () => {
    const partition = createTraceIdPartitioner();
    const partitionMetadata = metadata([1, 1, 1, 1, 1, 1]);
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const expected = partitionOf(traceId, 6);
    for (let i = 0; i < 3; i++) {
      expect(partition({ topic: "t", partitionMetadata, message: { key: traceId } })).to.equal(expected);
    }
    const bytes = Buffer.from(traceId);
    expect(partition({ topic: "t", partitionMetadata, message: { key: bytes } })).to.equal(expected);
    const wider = metadata([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(partition({ topic: "t", partitionMetadata: wider, message: { key: traceId } })).to.equal(
      partitionOf(traceId, 12),
    );
  });

  it("keeps an explicit partition", () => {
    const partition = createTraceIdPartitioner();
    const partitionMetadata = metadata([1, 1, 1]);
    expect(partition({ topic: "t", partitionMetadata, message: { key: "abc", partition: 2 } })).to.equal(2);
    expect(partition({ topic: "t", partitionMetadata, message: { partition: 0 } })).to.equal(0);
  });

  it("spreads records without a key round-robin over partitions that have a leader", () => {
    const partition = createTraceIdPartitioner();
    const partitionMetadata = metadata([1, -1, 2, 1, -1]);
    const chosen = Array.from({ length: 9 }, () =>
      partition({ topic: "t", partitionMetadata, message: { key: null } }),
    );
    expect(new Set(chosen)).to.deep.equal(new Set([0, 2, 3]));
    for (let i = 3; i < chosen.length; i++) expect(chosen[i]).to.equal(chosen[i - 3]);
    const leaderless = metadata([-1, -1, -1]);
    const fallback = Array.from({ length: 6 }, () =>
      partition({ topic: "u", partitionMetadata: leaderless, message: {} }),
    );
    expect(new Set(fallback)).to.deep.equal(new Set([0, 1, 2]));
  });
});
