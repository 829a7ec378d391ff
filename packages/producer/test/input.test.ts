import { expect } from "chai";
import { createExecutionTracker, createProducer, DropReason, EmitResult } from "../src/index.js";

describe("bad input", () => {
  it("emit never throws: null fields, NaN and ±Infinity are rejected, counted and dropped", async () => {
    const warnings: Record<string, unknown>[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (_m: string, fields?: Record<string, unknown>) => warnings.push(fields ?? {}),
      error: () => undefined,
    };
    const producer = createProducer({ brokers: ["127.0.0.1:1"], spool: false, logger, closeTimeoutMs: 50 });
    const results = [
      producer.emitEvent(null as never),
      producer.emitEvent(undefined as never),
      producer.emitEvent({ event_kind: "CUSTOM", name: "x", duration_ms: Number.NaN }),
      producer.emitEvent({ event_kind: "CUSTOM", name: "x", duration_ms: Number.POSITIVE_INFINITY }),
      producer.emitMetrics({ total_ms: Number.NEGATIVE_INFINITY } as never),
      producer.emitEvent({ event_kind: "NOPE" as never, name: "x" }),
      producer.emitExecution({ lifecycle: "STARTED", status: "ok", span_id: "bad" }),
    ];
    expect(results).to.deep.equal(Array(results.length).fill(EmitResult.Dropped));
    expect(producer.stats().dropped[DropReason.Invalid]).to.equal(results.length);
    expect(producer.stats().accepted).to.equal(0);
    expect(producer.emitEvent({ event_kind: "CUSTOM", name: "fine", duration_ms: 1.5 })).to.equal(
      EmitResult.Queued,
    );
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(
      warnings.some((w) => w["reason"] === DropReason.Invalid && String(w["firstError"]).includes("null")),
    ).to.equal(true);
    await producer.close();
  });

  it("the tracker's write methods return false for null and count it, without throwing", async () => {
    const producer = createProducer({ brokers: ["127.0.0.1:1"], spool: false, closeTimeoutMs: 50 });
    const tracker = createExecutionTracker(producer);
    expect(tracker.writeExecutionStart(null as never)).to.equal(false);
    expect(tracker.writeExecutionUpdate(null as never)).to.equal(false);
    expect(tracker.writeExecutionComplete(null as never)).to.equal(false);
    expect(tracker.writePerformanceMetrics(undefined as never)).to.equal(false);
    expect(producer.stats().dropped[DropReason.Invalid]).to.equal(4);
    await producer.close();
  });
});
