import { TraceQueries } from "@tracehouse/clickhouse";
import { TraceContext } from "@tracehouse/context";
import { expect } from "chai";
import { DeadLetterHeader, DeadLetterValue } from "../src/index.js";
import { HostileHarness } from "./helpers/hostile.js";

const MONTH_MS = 30 * 86_400_000;

/** A record with a valid marker and a fingerprint no schema has, `bytes` long. */
function unknownFingerprint(bytes: number, fill: number): Buffer {
  const value = Buffer.alloc(bytes, fill);
  value[0] = 0xc3;
  value[1] = 0x01;
  value.writeUInt32LE(0xdeadbeef, 2);
  value.writeUInt32LE(0x0badf00d, 6);
  return value;
}

describe("worker: hostile input", function () {
  this.timeout(300_000);

  describe("with the default dead-letter size", () => {
    const h = new HostileHarness();
    before(() => h.start());
    after(() => h.stop());

    it("dead-letters a ~1 MB poison record as a pointer, which fits the broker", async () => {
      const before = h.goodEvent();
      const after = h.goodEvent();
      const from = h.produced;
      // Just below the broker's limit (1 MiB + 12 bytes): a copy with the dead-letter headers is not.
      await h.send(
        [before.message, { key: "big", value: unknownFingerprint(1_048_400, 7) }, after.message],
        true,
      );
      const [letter] = await h.lettersFor("unknown_fingerprint", 1, from);
      expect(letter!.info).to.include({
        value: DeadLetterValue.Pointer,
        topic: h.topic,
        offset: String(from + 1),
      });
      expect(letter!.message.value === null || letter!.message.value.length === 0).to.equal(true);
      expect(letter!.message.headers?.[DeadLetterHeader.Size]?.toString()).to.equal("1048400");
      await h.expectHealthy([before.record.event_id, after.record.event_id]);
    });

    it("dead-letters several ~350 KB poison records fetched together", async () => {
      const neighbour = h.goodEvent();
      const from = h.produced;
      await h.send(
        [
          ...[1, 2, 3].map((fill) => ({ key: "mid", value: unknownFingerprint(350_000, fill) })),
          neighbour.message,
        ],
        true,
      );
      const letters = await h.lettersFor("unknown_fingerprint", 3, from);
      expect(letters.map((letter) => letter.info.offset)).to.deep.equal(
        ["0", "1", "2"].map((i) => String(from + Number(i))),
      );
      await h.expectHealthy([neighbour.record.event_id]);
    });

    it("writes a batch spanning 150 months (more partitions than one INSERT may touch) and stays ready", async () => {
      const context = TraceContext.create().child();
      const now = Date.now();
      // Within the 90-day TTL the months are few; 150 months need the future, up to 2106.
      const events = Array.from({ length: 150 }, (_, i) =>
        h.goodEvent(context, { event_time: (now + i * MONTH_MS) * 1000 }),
      );
      await h.send(events.map((event) => event.message));
      await h.expectHealthy(events.map((event) => event.record.event_id));
    });

    it("dead-letters event times the tables would drop or wrap (invalid_row, with the field), and keeps the trace's index entry", async () => {
      const context = TraceContext.create().child();
      const kept = Array.from({ length: 33 }, () => h.goodEvent(context));
      const times = [
        -1,
        Date.UTC(2150, 0, 1) * 1000,
        Date.UTC(2250, 0, 1) * 1000,
        (Date.now() - 100 * 86_400_000) * 1000,
      ];
      const bad = times.map((event_time) => h.goodEvent(context, { event_time }));
      const from = h.produced;
      await h.send([
        bad[0]!.message,
        ...kept.map((event) => event.message),
        ...bad.slice(1).map((event) => event.message),
      ]);
      const letters = await h.lettersFor("invalid_row", 4, from);
      for (const letter of letters) {
        expect(letter.info.field).to.equal("event_time");
        expect(letter.info.value).to.equal(DeadLetterValue.Original);
      }
      await h.expectHealthy(kept.map((event) => event.record.event_id));
      for (const table of ["agent_events", "trace_index"])
        await h.sink.command(`OPTIMIZE TABLE ${h.sink.database}.${table} FINAL`);
      const tree = await new TraceQueries(h.sink).getTrace(context.traceId);
      expect(tree, "the trace is still found").to.not.equal(null);
      expect(tree!.summary.eventCount).to.equal(33);
      expect(await h.storedIds(bad.map((event) => event.record.event_id))).to.deep.equal([]);
    });

    it("keeps an explicit null identity over the baggage of the headers", async () => {
      const context = TraceContext.create({ userId: "from-baggage", correlationId: "corr-baggage" }).child();
      const event = h.goodEvent(context, { user_id: null, correlation_id: null });
      await h.send([event.message]);
      await h.expectHealthy([event.record.event_id]);
      const [row] = await h.sink.query<{ user_id: string; correlation_id: string }>(
        `SELECT user_id, correlation_id FROM ${h.sink.database}.agent_events WHERE event_id = {id:String}`,
        { id: event.record.event_id },
      );
      expect(row).to.deep.equal({ user_id: "", correlation_id: "" });
    });
  });

  describe("with a dead-letter size above what the broker accepts", () => {
    const h = new HostileHarness({ maxDeadLetterBytes: 4 * 1024 * 1024 });
    before(() => h.start());
    after(() => h.stop());

    it("falls back to one letter at a time, then to the pointer form, and never stops", async () => {
      const neighbour = h.goodEvent();
      const from = h.produced;
      // Just below the broker's limit (1 MiB + 12 bytes): its copy, with the dead-letter headers, is not.
      await h.send([{ key: "big", value: unknownFingerprint(1_048_400, 9) }, neighbour.message], true);
      await h.send(
        [1, 2, 3].map((fill) => ({ key: "mid", value: unknownFingerprint(350_000, fill) })),
        true,
      );
      const letters = await h.lettersFor("unknown_fingerprint", 4, from);
      const big = letters.find((letter) => letter.info.offset === String(from))!;
      expect(big.info.value).to.equal(DeadLetterValue.Pointer);
      expect(big.info.error).to.match(/refused/);
      const mid = letters.filter((letter) => Number(letter.info.offset) > from + 1);
      expect(mid.map((letter) => letter.info.value)).to.deep.equal(Array(3).fill(DeadLetterValue.Original));
      expect(mid.map((letter) => letter.message.value?.length)).to.deep.equal([350_000, 350_000, 350_000]);
      await h.expectHealthy([neighbour.record.event_id]);
    });
  });
});
