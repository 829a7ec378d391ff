import { randomBytes } from "node:crypto";
import { TraceContext } from "@tracehouse/context";
import { RecordType, currentSchemaVersion, encodeRecord, schemaFingerprintOf } from "@tracehouse/schemas";
import { expect } from "chai";
import { CompressionCodecs, CompressionTypes } from "kafkajs";
import type { IHeaders, Message } from "kafkajs";
import { DeadLetterReason } from "../src/index.js";
import { HostileHarness } from "./helpers/hostile.js";

/** kafkajs's lz4 entry as this file loads, before any worker starts. */
const KAFKAJS_LZ4 = (CompressionCodecs as Record<number, () => unknown>)[CompressionTypes.LZ4]!;

const REASONS: ReadonlySet<string> = new Set(Object.values(DeadLetterReason));

/** A valid event whose `name` is replaced, in the encoded bytes, by `bytes` of the same length. */
function withRawName(h: HostileHarness, bytes: Buffer): { eventId: string; message: Message } {
  const placeholder = "N".repeat(bytes.length);
  const event = h.goodEvent(undefined, { name: placeholder });
  const value = Buffer.from(event.message.value as Buffer);
  const at = value.indexOf(Buffer.from(placeholder));
  bytes.copy(value, at);
  return { eventId: event.record.event_id, message: { ...event.message, value } };
}

describe("worker: hostile bytes, sizes and headers", function () {
  this.timeout(300_000);
  const h = new HostileHarness({ maxBytesPerPartition: 1024 * 1024 });
  // Records up to 16 MB on the source topic; the dead-letter topic keeps the broker's default (1 MB).
  before(() => h.start([{ name: "max.message.bytes", value: String(16 * 1024 * 1024) }]));
  after(() => h.stop());

  it("random bytes: every record is dead-lettered with a reason or written, nothing stops", async () => {
    const good = h.goodEvent();
    const header = Buffer.from(encodeRecord(RecordType.Event, good.record as never).subarray(0, 10));
    expect(header.subarray(2).toString("hex")).to.equal(
      schemaFingerprintOf(RecordType.Event, currentSchemaVersion(RecordType.Event)),
    );
    const from = h.produced;
    const junk: Message[] = [];
    for (let i = 0; i < 40; i++) {
      const body = randomBytes(1 + ((i * 37) % 300));
      // A third plain noise, a third behind the Avro marker, a third behind a known fingerprint.
      const value = i % 3 === 0 ? body : Buffer.concat([i % 3 === 1 ? header.subarray(0, 2) : header, body]);
      junk.push({ key: randomBytes(8), value });
    }
    await h.send([...junk, good.message]);
    await h.expectHealthy([good.record.event_id]);
    const letters = h.letters.filter((letter) => Number(letter.info.offset) >= from);
    for (const letter of letters) expect(REASONS.has(letter.info.reason), letter.info.reason).to.equal(true);
    expect(letters.length).to.be.at.least(26);
  });

  it("a batch an agent compressed with lz4 in its own process is read: the worker registers the codec itself", async () => {
    const events = [h.goodEvent(), h.goodEvent()];
    await h.sendLz4FromAnotherProcess(events.map((event) => event.message));
    await h.expectHealthy(events.map((event) => event.record.event_id));
    expect(KAFKAJS_LZ4, "kafkajs's own lz4 entry, before any worker started").to.throw(/not implemented/i);
  });

  for (const compression of ["zstd", "snappy"] as const)
    it(`a batch a Java producer compressed with ${compression} is read: its records are dead-lettered as they were, neighbours written`, async () => {
      const from = h.produced;
      const lines = [`not a record (${compression}) 1`, `not a record (${compression}) 2`];
      await h.sendFromJavaProducer(lines, compression);
      const good = h.goodEvent();
      await h.send([good.message]);
      await h.expectHealthy([good.record.event_id]);
      const letters = h.letters.filter((letter) => Number(letter.info.offset) >= from);
      expect(letters.map((letter) => [letter.info.reason, letter.message.value?.toString()])).to.deep.equal(
        lines.map((line) => [DeadLetterReason.BadMarker, line]),
      );
    });

  it("a 10 MB string and a 100 000-key map are written (or dead-lettered), with memory bounded", async () => {
    const huge = h.goodEvent(undefined, { attributes: { blob: "x".repeat(10 * 1024 * 1024) } });
    const wide = h.goodEvent(undefined, {
      attributes: Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, String(i)])),
    });
    const neighbour = h.goodEvent();
    const from = h.produced;
    await h.send([huge.message], true);
    await h.send([wide.message, neighbour.message], true);
    await h.expectHealthy([neighbour.record.event_id]);
    const stored = await h.storedIds([huge.record.event_id, wide.record.event_id]);
    const lettered = h.letters.filter((letter) => Number(letter.info.offset) >= from);
    expect(stored.length + lettered.length).to.equal(2);
    const [sizes] = await h.sink.query<{ blob: number; keys: number }>(
      `SELECT max(length(attributes['blob'])) AS blob, max(length(mapKeys(attributes))) AS keys FROM ${h.sink.database}.agent_events WHERE event_id IN {ids:Array(String)}`,
      { ids: stored },
    );
    if (stored.includes(huge.record.event_id)) expect(sizes!.blob).to.equal(10 * 1024 * 1024);
    if (stored.includes(wide.record.event_id)) expect(sizes!.keys).to.equal(100_000);
  });

  it("invalid UTF-8 in a string field is stored as what it decodes to, not a stop", async () => {
    const invalid = withRawName(h, Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28]));
    const neighbour = h.goodEvent();
    await h.send([invalid.message, neighbour.message]);
    await h.expectHealthy([neighbour.record.event_id, invalid.eventId]);
  });

  it("garbage headers (binary trace context, oversized baggage, hundreds of headers) start a new trace", async () => {
    const headers: IHeaders = {
      traceparent: randomBytes(55),
      tracestate: Buffer.from("\u0000\u001b[31m=;;,,=="),
      baggage: "k=v;".repeat(50_000),
      "content-type": randomBytes(20),
    };
    for (let i = 0; i < 500; i++) headers[`junk-${i}`] = randomBytes(64);
    const context = TraceContext.create().child();
    const event = h.goodEvent(context);
    const neighbour = h.goodEvent();
    // A poison record with the same headers: its dead letter drops headers too large to copy.
    const from = h.produced;
    await h.send([
      { ...event.message, headers },
      { key: "p", value: Buffer.from("not avro"), headers },
      neighbour.message,
    ]);
    await h.expectHealthy([event.record.event_id, neighbour.record.event_id]);
    const [letter] = await h.lettersFor("bad_marker", 1, from);
    expect(letter!.info.value).to.equal("pointer");
  });
});
