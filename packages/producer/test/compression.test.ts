import { expect } from "chai";
import kafkajs from "kafkajs";
import { TraceContext } from "@tracehouse/context";
import { newEventId, RecordType } from "@tracehouse/schemas";
import { createProducer, EmitResult } from "../src/index.js";
import { topicFixture } from "./helpers/kafka.js";
import type { TopicFixture } from "./helpers/kafka.js";

interface Codec {
  compress(encoder: { readonly buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

describe("lz4 compression", function () {
  this.timeout(120_000);
  let fixture: TopicFixture;

  before(async () => {
    fixture = await topicFixture();
  });

  after(async () => {
    await fixture.cleanup();
  });

  it("registers its own codec and round-trips lz4 batches through the broker", async () => {
    const codecs = kafkajs.CompressionCodecs as Record<number, (() => Codec) | undefined>;
    const lz4 = kafkajs.CompressionTypes.LZ4;
    expect(() => codecs[lz4]!(), "no lz4 codec before a producer asks for one").to.throw(/not implemented/);
    const producer = createProducer({
      brokers: fixture.brokers,
      topics: fixture.topics,
      spool: false,
      compression: "lz4",
    });
    const registered = codecs[lz4];
    expect(registered).to.be.a("function");
    const calls = { compress: 0, decompress: 0 };
    codecs[lz4] = () => {
      const codec = registered!();
      return {
        compress: (encoder) => ((calls.compress += 1), codec.compress(encoder)),
        decompress: (buffer) => ((calls.decompress += 1), codec.decompress(buffer)),
      };
    };
    try {
      const context = TraceContext.create();
      const ids = Array.from({ length: 200 }, () => newEventId());
      for (const [seq, eventId] of ids.entries()) {
        const result = producer.emitEvent(
          { event_id: eventId, event_kind: "CUSTOM", name: "step", metadata: { seq: String(seq) } },
          context,
        );
        expect(result).to.equal(EmitResult.Queued);
      }
      await producer.close();
      expect(producer.stats().sent).to.equal(ids.length);
      const received = await fixture.consume(ids.length);
      expect(received.map((m) => m.decoded.type)).to.deep.equal(ids.map(() => RecordType.Event));
      expect(received.map((m) => m.decoded.record.event_id)).to.deep.equal(ids);
      expect(new Set(received.map((m) => m.key))).to.deep.equal(new Set([context.traceId]));
      expect(calls.compress, "batches compressed with lz4").to.be.greaterThan(0);
      expect(calls.decompress, "lz4 batches read back from the broker").to.be.greaterThan(0);
    } finally {
      codecs[lz4] = registered;
    }
  });
});
