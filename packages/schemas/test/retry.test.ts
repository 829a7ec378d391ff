import { expect } from "chai";
import { ConfigError, TracehouseError, backoffDelayMs, isTransientError, retry } from "../src/index.js";

describe("retry", () => {
  const fast = { maxRetries: 5, baseDelayMs: 1, maxDelayMs: 4 };

  it("waits below min(maxDelayMs, baseDelayMs·2ⁿ), full jitter", () => {
    const policy = { baseDelayMs: 10, maxDelayMs: 50 };
    expect([0, 1, 2, 3, 10].map((n) => backoffDelayMs(policy, n, () => 0.999))).to.deep.equal([
      9, 19, 39, 49, 49,
    ]);
    expect(backoffDelayMs(policy, 3, () => 0)).to.equal(0);
  });

  it("reports each retry to its hook and leaves with the last error once the limit is reached", async () => {
    const seen: number[] = [];
    let calls = 0;
    const error = await retry(
      async () => {
        calls++;
        throw new TracehouseError(`attempt ${calls}`);
      },
      { policy: { ...fast, maxRetries: 2 }, onRetry: ({ retry: n }) => seen.push(n) },
    ).catch((failure: unknown) => failure as Error);
    expect([calls, seen, error.message]).to.deep.equal([3, [1, 2], "attempt 3"]);
  });

  it("with retryForMs, goes on past the count until the deadline, its last wait ending there", async () => {
    const started = Date.now();
    const times: number[] = [];
    const error = await retry(
      async () => {
        times.push(Date.now() - started);
        throw new Error("not the coordinator");
      },
      { policy: { maxRetries: 2, baseDelayMs: 40, maxDelayMs: 40, retryForMs: 300 }, random: () => 0.999 },
    ).catch((failure: unknown) => failure as Error);
    expect(error.message).to.equal("not the coordinator");
    // waits of 39 ms: about eight attempts in 300 ms instead of the three the count allows
    expect(times.length).to.be.within(6, 9);
    expect(times.at(-1)).to.be.within(290, 400);
    let calls = 0;
    const done = await retry(
      async () => {
        if (++calls < 5) throw new Error("loading");
        return "committed";
      },
      { policy: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1, retryForMs: 1000 } },
    );
    expect([done, calls]).to.deep.equal(["committed", 5]);
  });

  it("never retries a non-retriable error, and stops waiting when aborted", async () => {
    let calls = 0;
    await retry(
      async () => {
        calls++;
        throw new ConfigError("bad");
      },
      { policy: fast },
    ).catch(() => undefined);
    expect(calls).to.equal(1);
    const controller = new AbortController();
    const aborted = retry(
      async () => {
        throw new Error("down");
      },
      {
        policy: { maxRetries: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 },
        signal: controller.signal,
        random: () => 1,
      },
    ).catch((failure: unknown) => failure as Error);
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort(new Error("stopping"));
    expect((await aborted).message).to.equal("stopping");
  });

  it("classifies: tracehouse errors say so, other libraries' `retriable` flags count, the rest is transient", () => {
    expect(isTransientError(new ConfigError("x"))).to.equal(false);
    expect(isTransientError(Object.assign(new Error("x"), { retriable: false }))).to.equal(false);
    expect(isTransientError(new Error("socket hang up"))).to.equal(true);
  });
});
