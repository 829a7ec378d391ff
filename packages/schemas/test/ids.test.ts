import { expect } from "chai";
import { isEventId, isSpanId, isTraceId, newEventId, nowMicros } from "../src/index.js";

describe("identifiers and time", () => {
  it("makes UUIDv7 event ids that sort by creation time", async () => {
    const first = newEventId();
    await new Promise((resolve) => setTimeout(resolve, 2));
    const ids = [first, ...Array.from({ length: 1000 }, () => newEventId())];
    for (const id of ids) {
      expect(id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(isEventId(id)).to.equal(true);
    }
    expect(new Set(ids).size).to.equal(ids.length);
    expect([...ids].sort()).to.deep.equal(ids);
    const millis = parseInt(first.replace(/-/g, "").slice(0, 12), 16);
    expect(Math.abs(millis - Date.now())).to.be.lessThan(5000);
  });

  it("makes unique RFC 9562 UUIDv7s, ordered as generated, with the current time", () => {
    const before = Date.now();
    const ids = Array.from({ length: 50_000 }, () => newEventId());
    const after = Date.now();
    expect(new Set(ids).size).to.equal(ids.length);
    expect([...ids].sort()).to.deep.equal(ids);
    for (const id of ids.slice(0, 1000)) {
      expect(isEventId(id), id).to.equal(true);
      expect(id[14]).to.equal("7");
      expect("89ab").to.include(id[19]!);
    }
    expect(millisOf(ids[0]!)).to.be.within(before, after + 1);
    expect(millisOf(ids[ids.length - 1]!)).to.be.within(before, after + 50);
  });

  it("keeps event ids increasing when the clock stands still or steps back", () => {
    const realNow = Date.now;
    const frozen = realNow() + 60_000;
    let clock = frozen;
    Date.now = () => clock;
    try {
      const ids = Array.from({ length: 5000 }, () => newEventId());
      clock = frozen - 10_000;
      ids.push(...Array.from({ length: 10 }, () => newEventId()));
      expect([...ids].sort()).to.deep.equal(ids);
      expect(new Set(ids).size).to.equal(ids.length);
      expect(millisOf(ids[0]!)).to.equal(frozen);
      const last = millisOf(ids[ids.length - 1]!);
      expect(last, "a full 12-bit counter moves on to the next millisecond").to.be.within(
        frozen + 1,
        frozen + 2,
      );
    } finally {
      Date.now = realNow;
    }
  });

  it("gives the time in integer microseconds close to the wall clock", async () => {
    const before = Date.now() * 1000;
    const micros = nowMicros();
    const after = Date.now() * 1000 + 1000;
    expect(Number.isSafeInteger(micros)).to.equal(true);
    expect(micros).to.be.within(before - 1000, after);
    const samples = Array.from({ length: 10_000 }, () => nowMicros());
    expect(new Set(samples).size, "sub-millisecond resolution").to.be.greaterThan(2);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const later = nowMicros();
    expect(Math.abs(later - Date.now() * 1000)).to.be.lessThan(5000);
  });

  it("checks W3C trace and span ids", () => {
    expect(isTraceId("4bf92f3577b34da6a3ce929d0e0e4736")).to.equal(true);
    expect(isTraceId("4BF92F3577B34DA6A3CE929D0E0E4736")).to.equal(false);
    expect(isTraceId("0".repeat(32))).to.equal(false);
    expect(isTraceId("4bf92f3577b34da6a3ce929d0e0e473")).to.equal(false);
    expect(isTraceId(42)).to.equal(false);
    expect(isSpanId("00f067aa0ba902b7")).to.equal(true);
    expect(isSpanId("0".repeat(16))).to.equal(false);
    expect(isSpanId("00f067aa0ba902b7a")).to.equal(false);
    expect(isEventId("01933B7E-8F3A-7C2E-9B1D-4F6A2C8E5D10")).to.equal(false);
  });
});

function millisOf(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
