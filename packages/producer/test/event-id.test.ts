import { expect } from "chai";
import { isEventId } from "@tracehouse/schemas";
import { fastEventId } from "../src/internal/event-id.js";

describe("event ids", () => {
  it("are unique RFC 9562 UUIDv7s, ordered as generated, with the current time", () => {
    const before = Date.now();
    const ids = Array.from({ length: 50_000 }, () => fastEventId());
    const after = Date.now();
    expect(new Set(ids).size).to.equal(ids.length);
    expect([...ids].sort()).to.deep.equal(ids);
    for (const id of ids.slice(0, 1000)) {
      expect(isEventId(id), id).to.equal(true);
      expect(id[14]).to.equal("7");
      expect("89ab").to.include(id[19]!);
    }
    const ms = (id: string) => Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    expect(ms(ids[0]!)).to.be.within(before, after + 1);
    expect(ms(ids[ids.length - 1]!)).to.be.within(before, after + 50);
  });
});
