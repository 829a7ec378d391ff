import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { TraceContext } from "@tracehouse/context";
import { ExecutionLifecycle, RecordType } from "@tracehouse/schemas";
import { createProducer, EmitResult } from "../src/index.js";
import type { Producer } from "../src/index.js";
import { traceIdRatio } from "../src/internal/Sampler.js";
import { tempSpoolDir, topicFixture } from "./helpers/kafka.js";
import type { TopicFixture } from "./helpers/kafka.js";

const EXECUTION_RATE = 0.5;
const EVENT_RATE = 0.2;

/** Emits one trace: STARTED, three events, metrics, and for `failing` traces an error and a FAILED execution. */
function emitTrace(producer: Producer, context: TraceContext, failing: boolean): EmitResult[] {
  const results = [
    producer.emitExecution({ lifecycle: ExecutionLifecycle.Started, status: "running" }, context),
    ...[1, 2, 3].map((i) => producer.emitEvent({ event_kind: "CUSTOM", name: `e${i}` }, context)),
    producer.emitMetrics(
      {
        initialization_ms: 1,
        tool_execution_ms: 2,
        llm_processing_ms: 3,
        websocket_notification_ms: 0,
        total_ms: 6,
      },
      context,
    ),
  ];
  if (failing) {
    results.push(
      producer.emitError(
        { error_class: "Error", message: "boom", retriable: false, severity: "ERROR" },
        context,
      ),
      producer.emitExecution(
        { lifecycle: ExecutionLifecycle.Failed, status: "failed", error_message: "boom" },
        context,
      ),
    );
  }
  return results;
}

describe("sampling", function () {
  this.timeout(120_000);
  let fixture: TopicFixture;
  let spool: ReturnType<typeof tempSpoolDir>;

  before(async () => {
    fixture = await topicFixture();
    spool = tempSpoolDir();
  });

  after(async () => {
    await fixture.cleanup();
    spool.remove();
  });

  it("keeps or drops whole traces from the trace id, per record type, and always keeps errors and failures", async () => {
    const producer = createProducer({
      brokers: fixture.brokers,
      topics: fixture.topics,
      spool: { dir: spool.dir },
      sampling: { rate: EXECUTION_RATE, rates: { [RecordType.Event]: EVENT_RATE } },
    });
    const traces = Array.from({ length: 200 }, (_, i) => ({
      context: TraceContext.create(),
      failing: i % 10 === 0,
    }));
    const unsampled = Array.from({ length: 20 }, () =>
      TraceContext.fromHeaders({
        traceparent: `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-00`,
      }),
    );
    let sampledOut = 0;
    for (const { context, failing } of traces) {
      const results = emitTrace(producer, context, failing);
      sampledOut += results.filter((r) => r === EmitResult.SampledOut).length;
    }
    for (const context of unsampled) {
      expect(context.sampled).to.equal(false);
      const results = emitTrace(producer, context, true);
      expect(results).to.deep.equal([
        EmitResult.SampledOut,
        EmitResult.SampledOut,
        EmitResult.SampledOut,
        EmitResult.SampledOut,
        EmitResult.SampledOut,
        EmitResult.Queued,
        EmitResult.Queued,
      ]);
      sampledOut += 5;
    }
    await producer.flush({ timeoutMs: 30_000 });
    const stats = producer.stats();
    expect(stats.dropped.sampling).to.equal(sampledOut);
    await producer.close();

    const received = await fixture.consume(stats.accepted);
    expect(received).to.have.length(stats.accepted);
    const byTrace = new Map<string, string[]>();
    for (const m of received) {
      const r = m.decoded.record;
      const label =
        m.decoded.type === RecordType.Execution
          ? `${m.decoded.type}:${(r as { lifecycle: string }).lifecycle}`
          : m.decoded.type;
      byTrace.set(r.trace_id, [...(byTrace.get(r.trace_id) ?? []), label]);
    }
    let keptTraces = 0;
    for (const { context, failing } of traces) {
      const ratio = traceIdRatio(context.traceId);
      const expected: string[] = [];
      if (ratio < EXECUTION_RATE) expected.push("execution:STARTED", "metrics");
      if (ratio < EVENT_RATE) expected.push("event", "event", "event");
      if (failing) expected.push("error", "execution:FAILED");
      expect((byTrace.get(context.traceId) ?? []).sort()).to.deep.equal(expected.sort());
      if (ratio < EXECUTION_RATE) keptTraces += 1;
    }
    expect(keptTraces / traces.length).to.be.within(0.35, 0.65);
    for (const context of unsampled) {
      expect(byTrace.get(context.traceId)!.sort()).to.deep.equal(["error", "execution:FAILED"]);
    }
  });

  it("decides the same way in every producer, from the trace id alone", async () => {
    const options = {
      brokers: ["127.0.0.1:1"],
      spool: false as const,
      sampling: { rate: 0.3 },
      closeTimeoutMs: 50,
    };
    const a = createProducer(options);
    const b = createProducer(options);
    const contexts = Array.from({ length: 300 }, () => TraceContext.create());
    const decisions = (p: Producer) =>
      contexts.map((c) => p.emitEvent({ event_kind: "CUSTOM", name: "x" }, c.child()) === EmitResult.Queued);
    const fromA = decisions(a);
    expect(decisions(b)).to.deep.equal(fromA);
    expect(fromA).to.deep.equal(contexts.map((c) => traceIdRatio(c.traceId) < 0.3));
    await Promise.all([a.close(), b.close()]);
  });
});
