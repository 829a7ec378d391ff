import { expect } from "chai";
import { distribution, quantile } from "../src/harness/index.js";

describe("benchmark statistics", () => {
  it("takes nearest-rank quantiles numerically, from one sort of the values", () => {
    // 1..1000 shuffled, and numbers a string sort would misorder (9 < 10 < 100)
    const values = Array.from({ length: 1000 }, (_, i) => ((i * 617) % 1000) + 1);
    expect(distribution(values)).to.deep.equal({ count: 1000, p50: 500, p99: 990, p999: 999, max: 1000 });
    expect(distribution([100, 9, 10])).to.deep.include({ p50: 10, max: 100 });
    expect(quantile([0.5, -2, 3], 0)).to.equal(-2);
    expect(distribution([])).to.deep.equal({ count: 0, p50: null, p99: null, p999: null, max: null });
  });
});
