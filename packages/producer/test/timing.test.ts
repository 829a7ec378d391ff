import { expect } from "chai";
import { ExecutionTimingCollector, TimingPhase } from "../src/index.js";

function clock() {
  let now = 1000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("ExecutionTimingCollector", () => {
  it("sums phases, counting nested and overlapping timers of one phase once", () => {
    const c = clock();
    const timing = new ExecutionTimingCollector({ now: c.now });
    const init = timing.startPhase(TimingPhase.Initialization);
    c.advance(5);
    expect(init.end()).to.equal(5);
    expect(init.end()).to.equal(5);
    const outer = timing.startPhase(TimingPhase.ToolExecution);
    c.advance(10);
    const inner = timing.startPhase(TimingPhase.ToolExecution);
    const llm = timing.startPhase(TimingPhase.LlmProcessing);
    c.advance(4);
    timing.markFirstToken();
    c.advance(6);
    expect(inner.end()).to.equal(10);
    llm.end();
    c.advance(3);
    expect(outer.end()).to.equal(23);
    timing.recordWebSocketNotification(2);
    timing.recordWebSocketLatency(8);
    timing.recordWebSocketLatency(12);
    timing.recordDatabaseQuery(7);
    c.advance(1);
    timing.stop();
    c.advance(100);
    const b = timing.getBreakdown();
    expect(b.initializationMs).to.equal(5);
    expect(b.toolExecutionMs).to.equal(23);
    expect(b.llmProcessingMs).to.equal(10);
    expect(b.websocketNotificationMs).to.equal(2);
    expect(b.totalMs).to.equal(29);
    expect(b.timeToFirstTokenMs).to.equal(4);
    expect(b.websocketLatencyMs).to.equal(10);
    expect(b.databaseQueryMs).to.equal(7);
    expect(b.queueWaitMs).to.equal(null);
    expect(b.externalApiMs).to.equal(null);
  });

  it("counts open phases up to now, and times async work", async () => {
    const timing = new ExecutionTimingCollector();
    timing.startPhase("custom_phase");
    const value = await timing.time(TimingPhase.ExternalApi, async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return 42;
    });
    expect(value).to.equal(42);
    const b = timing.getBreakdown();
    expect(b.externalApiMs).to.be.at.least(15);
    expect(b.phases["custom_phase"]).to.be.at.least(15);
    expect(b.timeToFirstTokenMs).to.equal(null);
    expect(() =>
      timing.time("sync", () => {
        throw new RangeError("x");
      }),
    ).to.throw(RangeError);
    expect(timing.getBreakdown().phases["sync"]).to.be.a("number");
  });
});
