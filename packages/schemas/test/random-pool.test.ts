import { expect } from "chai";
import { RandomPool } from "../src/index.js";

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

async function spareReady(pool: RandomPool): Promise<void> {
  for (let i = 0; i < 100 && !pool.spareReady; i++) await tick();
  expect(pool.spareReady, "the spare buffer is filled in the background").to.equal(true);
}

describe("RandomPool", () => {
  it("swaps in the spare filled in the background when the pool runs out, then refills the used one", async () => {
    const pool = new RandomPool(64);
    await spareReady(pool);
    const first = pool.bytes;
    const firstCopy = Buffer.from(first);
    for (let i = 0; i < 8; i++) expect(pool.take(8)).to.equal(i * 8);
    expect(pool.take(8)).to.equal(0);
    expect(pool.bytes, "the caller got the spare, not a synchronous refill").to.not.equal(first);
    expect(pool.bytes.equals(firstCopy)).to.equal(false);
    expect(pool.spareReady).to.equal(false);
    await spareReady(pool);
    expect(first.equals(firstCopy), "the used buffer was refilled").to.equal(false);
  });

  it("fills synchronously when the spare is not ready, and never hands out the same bytes twice", () => {
    const pool = new RandomPool(32);
    const seen = new Set<string>();
    // Many refills within one tick: the spare cannot be ready for all of them.
    for (let i = 0; i < 4096; i++) {
      const at = pool.take(16);
      seen.add(pool.bytes.subarray(at, at + 16).toString("hex"));
    }
    expect(seen.size).to.equal(4096);
  });
});
