import { expect } from "chai";
import { encodeExportRequest } from "../src/index.js";
import type { ReceiverStats } from "../src/index.js";
import { topicFixture } from "./helpers/kafka.js";
import type { TopicFixture } from "./helpers/kafka.js";

const NOW_NS = BigInt(Date.now()) * 1_000_000n;
const TRACE = "0af7651916cd43dd8448eb211c80319c";

function span(spanId: string): Record<string, unknown> {
  return {
    traceId: Buffer.from(TRACE, "hex"),
    spanId: Buffer.from(spanId, "hex"),
    name: "work",
    startTimeUnixNano: (NOW_NS - 1_000_000n).toString(),
    endTimeUnixNano: NOW_NS.toString(),
  };
}

describe("receiver stats", function () {
  let fixture: TopicFixture;

  before(async function () {
    fixture = await topicFixture();
  });

  after(async () => fixture.cleanup());

  it("counts requests, spans and records, and what decoding, mapping, emitting and Kafka's acknowledgement cost", async function () {
    const receiver = await fixture.receiver();
    expect(receiver.stats()).to.deep.equal({
      requests: 0,
      spans: 0,
      records: 0,
      decodeCpuUs: 0,
      mapCpuUs: 0,
      emitCpuUs: 0,
      ackWaitUs: 0,
    } satisfies ReceiverStats);
    const post = (body: Buffer): Promise<Response> =>
      fetch(`${receiver.addresses().http}/v1/traces`, {
        method: "POST",
        body,
        headers: { "content-type": "application/x-protobuf" },
      });
    // two spans, one of them with a span id of the wrong length (rejected, so no record)
    const body = encodeExportRequest({
      resourceSpans: [{ scopeSpans: [{ spans: [span("00000000000000a1"), span("00a2")] }] }],
    });
    expect((await post(body)).status).to.equal(200);
    expect((await post(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]))).status).to.equal(400);

    const stats = receiver.stats();
    expect(stats).to.include({ requests: 1, spans: 2, records: 1 });
    expect(stats.ackWaitUs, "waited for Kafka").to.be.greaterThan(0);
    for (const stage of ["decodeCpuUs", "mapCpuUs", "emitCpuUs"] as const) {
      expect(Number.isInteger(stats[stage]) && stats[stage] >= 0, stage).to.equal(true);
    }
  });
});
