import { setTimeout as sleep } from "node:timers/promises";
import type { ExecutionNode, StoredRecord, TraceTree } from "@tracehouse/clickhouse";
import { TraceContext } from "@tracehouse/context";
import {
  createAgentTracer,
  createExecutionTracker,
  ExecutionTimingCollector,
  TimingPhase,
} from "@tracehouse/producer";
import type {
  AgentTracer,
  Execution,
  ExecutionTracker,
  MetricsInput,
  TimingBreakdown,
} from "@tracehouse/producer";
import { CorrelationRelationship, newEventId, SpanStatusCode } from "@tracehouse/schemas";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { expect } from "chai";
import { openPipeline } from "../src/harness/index.js";
import type { Pipeline, RecordingProducer } from "../src/harness/index.js";

function micros([seconds, nanos]: readonly [number, number]): number {
  return seconds * 1_000_000 + Math.floor(nanos / 1000);
}

function metricsOf(breakdown: TimingBreakdown): MetricsInput {
  return {
    initializationMs: breakdown.initializationMs,
    toolExecutionMs: breakdown.toolExecutionMs,
    llmProcessingMs: breakdown.llmProcessingMs,
    websocketNotificationMs: breakdown.websocketNotificationMs,
    totalMs: breakdown.totalMs,
    timeToFirstTokenMs: breakdown.timeToFirstTokenMs ?? undefined,
    queueWaitMs: breakdown.queueWaitMs ?? undefined,
    databaseQueryMs: breakdown.databaseQueryMs ?? undefined,
    externalApiMs: breakdown.externalApiMs ?? undefined,
    websocketLatencyMs: breakdown.websocketLatencyMs ?? undefined,
  };
}

/** The performance_metrics row must hold exactly the phase timings the collector measured. */
function expectPhaseTimings(row: StoredRecord | undefined, breakdown: TimingBreakdown): void {
  expect(row, "performance_metrics row").to.not.equal(undefined);
  const columns = {
    initialization_ms: breakdown.initializationMs,
    tool_execution_ms: breakdown.toolExecutionMs,
    llm_processing_ms: breakdown.llmProcessingMs,
    websocket_notification_ms: breakdown.websocketNotificationMs,
    total_ms: breakdown.totalMs,
    time_to_first_token_ms: breakdown.timeToFirstTokenMs,
    queue_wait_ms: breakdown.queueWaitMs,
    database_query_ms: breakdown.databaseQueryMs,
    external_api_ms: breakdown.externalApiMs,
    websocket_latency_ms: breakdown.websocketLatencyMs,
  };
  for (const [column, measured] of Object.entries(columns)) {
    if (measured === null) expect(row![column], column).to.equal(null);
    else expect(row![column], column).to.be.closeTo(measured, 1e-9);
  }
}

/** Waits for every record emitted so far, then reads the trace back. */
async function storedTrace(pipeline: Pipeline, traceId: string): Promise<TraceTree> {
  await pipeline.waitUntilQueryable(undefined, { timeoutMs: 90_000 });
  const tree = await pipeline.queries.getTrace(traceId);
  expect(tree, `trace ${traceId} in ClickHouse`).to.not.equal(null);
  return tree!;
}

describe("reference trace: context → span → execution → phase timings → Kafka → worker → ClickHouse", function () {
  this.timeout(180_000);

  let pipeline: Pipeline;
  let producer: RecordingProducer;
  let memory: InMemorySpanExporter;
  let tracer: AgentTracer;
  let tracker: ExecutionTracker;

  beforeEach(async function () {
    pipeline = await openPipeline({ name: "reftrace", partitions: 2 });
    producer = pipeline.createProducer({ lingerMs: 2 });
    memory = new InMemorySpanExporter();
    // one provider: span records through the producer, and the same spans to an OTLP-compatible exporter
    tracer = createAgentTracer({ producer, spanProcessors: [new SimpleSpanProcessor(memory)] });
    tracker = createExecutionTracker(producer, { tracer });
  });

  afterEach(async function () {
    await tracer?.shutdown();
    await pipeline?.close();
  });

  it("stores one execution, its span and its phase timings under the trace id", async function () {
    const context = TraceContext.create({
      userId: "user-7",
      correlationId: "conversation-7",
      threadId: "thread-7",
    });
    const agentName = "reference-agent";
    const executionId = newEventId();
    const span = tracer.startAgentSpan(agentName, context, { executionId });

    const timing = new ExecutionTimingCollector();
    await timing.time(TimingPhase.Initialization, () => sleep(15));
    const llm = timing.startPhase(TimingPhase.LlmProcessing);
    await sleep(10);
    timing.markFirstToken();
    await sleep(10);
    llm.end();
    await timing.time(TimingPhase.ToolExecution, () => sleep(20));
    timing.recordQueueWait(3.25);
    timing.recordDatabaseQuery(1.5);
    timing.stop();
    const phases = timing.getBreakdown();
    expect(phases.initializationMs).to.be.at.least(10);
    expect(phases.toolExecutionMs).to.be.at.least(15);
    expect(phases.timeToFirstTokenMs).to.be.within(5, phases.llmProcessingMs);

    expect(
      tracker.writeExecutionStart({ executionId, agentName, context: span.context, input: "What changed?" }),
    ).to.equal(true);
    expect(
      tracker.writePerformanceMetrics({
        executionId,
        metrics: { ...metricsOf(phases), promptTokens: 120, completionTokens: 8 },
      }),
    ).to.equal(true);
    expect(
      tracker.writeExecutionComplete({
        executionId,
        result: "Two things.",
      }),
    ).to.equal(true);
    span.setStatus(SpanStatusCode.Ok).end();
    expect(producer.stats().dropped).to.satisfy((dropped: Record<string, number>) =>
      Object.values(dropped).every((n) => n === 0),
    );

    const tree = await storedTrace(pipeline, context.traceId);
    expect(tree.summary.traceId).to.equal(context.traceId);
    expect(tree.summary.executionCount).to.equal(1);
    expect(tree.summary.userId).to.equal("user-7");
    expect(tree.roots).to.have.length(1);
    const node = tree.roots[0]!;
    expect(node).to.include({
      executionId,
      agentName,
      parentExecutionId: null,
      lifecycle: "COMPLETED",
      userId: "user-7",
      threadId: "thread-7",
      spanId: span.spanId,
      inputSummary: "What changed?",
      resultSummary: "Two things.",
    });

    const lifecycle = await pipeline.sink.query<{ lifecycle: string; trace_id: string; span_id: string }>(
      `SELECT lifecycle, trace_id, span_id FROM ${pipeline.database}.agent_executions FINAL
       WHERE execution_id = {id:String} ORDER BY event_time, event_id`,
      { id: executionId },
    );
    expect(lifecycle).to.deep.equal([
      { lifecycle: "STARTED", trace_id: context.traceId, span_id: span.spanId },
      { lifecycle: "COMPLETED", trace_id: context.traceId, span_id: span.spanId },
    ]);

    // the span, exported to Kafka and projected into the spans table ...
    expect(node.spans).to.have.length(1);
    const stored = node.spans[0]!;
    expect(stored).to.include({
      trace_id: context.traceId,
      span_id: span.spanId,
      parent_span_id: null, // a new trace's root span has no parent
      execution_id: executionId,
      agent_name: agentName,
      correlation_id: "conversation-7",
      user_id: "user-7",
      name: `invoke_agent ${agentName}`,
      status_code: "OK",
    });
    // ... and the same span to the in-memory OTLP exporter of the same provider
    const exported = memory.getFinishedSpans();
    expect(exported).to.have.length(1);
    const otel = exported[0]!;
    expect(otel.spanContext().traceId).to.equal(context.traceId);
    expect(otel.spanContext().spanId).to.equal(span.spanId);
    expect(otel.parentSpanContext).to.equal(undefined);
    expect(otel.name).to.equal(stored["name"]);
    expect(otel.attributes["tracehouse.execution_id"]).to.equal(executionId);
    expect(stored["start_time"]).to.equal(micros(otel.startTime));
    expect(stored["end_time"]).to.equal(micros(otel.endTime));

    // the phase timings, in performance_metrics
    expect(node.metrics).to.have.length(1);
    const metrics = node.metrics[0]!;
    expect(metrics).to.include({
      trace_id: context.traceId,
      span_id: span.spanId,
      prompt_tokens: 120,
      completion_tokens: 8,
    });
    expectPhaseTimings(metrics, phases);
  });

  it("links three levels of sub-agents to their parents under one trace id", async function () {
    const context = TraceContext.create({ userId: "user-9", correlationId: "conversation-9" });
    const levels: Execution[] = [];
    const names = ["supervisor", "planner", "researcher", "fetcher"];
    let parent: Execution | null = null;
    for (const name of names) {
      const execution: Execution =
        parent === null
          ? tracker.startExecution(context, { agentName: name, input: `task for ${name}` })
          : parent.startChild(name, { input: `task for ${name}` });
      await execution.timing.time(TimingPhase.Initialization, () => sleep(5));
      const call = execution.startLlmCall("model-small");
      await sleep(5);
      call.firstToken();
      await sleep(5);
      call.end({ usage: { promptTokens: 50, completionTokens: 5 } });
      levels.push(execution);
      parent = execution;
    }
    const deepest = levels[levels.length - 1]!;
    const tool = deepest.startToolCall("fetch_url");
    await sleep(10);
    tool.end({ status: "ok" });
    for (const execution of [...levels].reverse())
      expect(execution.complete(`done by ${execution.agentName}`)).to.equal(true);

    const tree = await storedTrace(pipeline, context.traceId);
    const ids = levels.map((execution) => execution.executionId);

    // every level shares the trace id, in every table
    for (const table of ["agent_executions", "performance_metrics", "spans", "agent_events"]) {
      const traces = await pipeline.sink.query<{ trace_id: string; executions: number }>(
        `SELECT trace_id, uniqExact(execution_id) AS executions FROM ${pipeline.database}.${table}
         WHERE execution_id IN {ids:Array(String)} GROUP BY trace_id`,
        { ids },
      );
      expect(traces, table).to.deep.equal([{ trace_id: context.traceId, executions: levels.length }]);
    }

    // the tree nests each level under its parent, linked by parent_execution_id and a correlation
    expect(tree.summary.executionCount).to.equal(levels.length);
    expect(tree.roots).to.have.length(1);
    let node: ExecutionNode | undefined = tree.roots[0];
    for (const [depth, execution] of levels.entries()) {
      expect(node, `level ${depth}`).to.not.equal(undefined);
      expect(node!.executionId).to.equal(execution.executionId);
      expect(node!.agentName).to.equal(names[depth]);
      expect(node!.parentExecutionId).to.equal(depth === 0 ? null : ids[depth - 1]);
      expect(node!.relationship).to.equal(depth === 0 ? null : CorrelationRelationship.Subagent);
      expect(node!.spanId).to.equal(execution.context.spanId);
      expect(node!.lifecycle).to.equal("COMPLETED");
      expect(node!.metrics).to.have.length(1);
      expectPhaseTimings(node!.metrics[0], execution.timing.getBreakdown());
      expect(node!.children).to.have.length(depth === levels.length - 1 ? 0 : 1);
      node = node!.children[0];
    }

    const parents = await pipeline.sink.query<{ execution_id: string; parent_execution_id: string }>(
      `SELECT execution_id, parent_execution_id FROM ${pipeline.database}.agent_executions FINAL
       WHERE trace_id = {trace:String} AND lifecycle = 'STARTED'`,
      { trace: context.traceId },
    );
    expect(new Map(parents.map((row) => [row.execution_id, row.parent_execution_id]))).to.deep.equal(
      new Map(ids.map((id, depth) => [id, depth === 0 ? "" : ids[depth - 1]])),
    );

    const correlations = await pipeline.sink.query<Record<string, string>>(
      `SELECT trace_id, span_id, parent_execution_id, child_execution_id, child_span_id, child_agent_name, relationship
       FROM ${pipeline.database}.trace_correlations FINAL WHERE trace_id = {trace:String}`,
      { trace: context.traceId },
    );
    const expectedLinks = levels.slice(1).map((child, i) => ({
      trace_id: context.traceId,
      span_id: levels[i]!.context.spanId,
      parent_execution_id: levels[i]!.executionId,
      child_execution_id: child.executionId,
      child_span_id: child.context.spanId,
      child_agent_name: child.agentName,
      relationship: CorrelationRelationship.Subagent,
    }));
    const byChild = (a: Record<string, string>, b: Record<string, string>): number =>
      String(a["child_execution_id"]).localeCompare(String(b["child_execution_id"]));
    expect([...correlations].sort(byChild)).to.deep.equal([...expectedLinks].sort(byChild));

    // span parents: the root span has none, each sub-agent's is its parent's span
    const expectedParents = new Map(
      levels.map((execution, depth) => [
        execution.context.spanId,
        depth === 0 ? undefined : levels[depth - 1]!.context.spanId,
      ]),
    );
    const storedSpans = await pipeline.sink.query<{
      span_id: string;
      parent_span_id: string;
      trace_id: string;
    }>(
      `SELECT span_id, parent_span_id, trace_id FROM ${pipeline.database}.spans FINAL
       WHERE trace_id = {trace:String} AND startsWith(name, 'invoke_agent ')`,
      { trace: context.traceId },
    );
    expect(
      new Map(
        storedSpans.map((row) => [row.span_id, row.parent_span_id === "" ? undefined : row.parent_span_id]),
      ),
    ).to.deep.equal(expectedParents);

    const exported: ReadableSpan[] = memory
      .getFinishedSpans()
      .filter((span) => span.attributes["gen_ai.operation.name"] === "invoke_agent");
    expect(exported.map((span) => span.spanContext().traceId)).to.deep.equal(
      levels.map(() => context.traceId),
    );
    expect(
      new Map(exported.map((span) => [span.spanContext().spanId, span.parentSpanContext?.spanId])),
    ).to.deep.equal(expectedParents);
    for (const execution of levels) expect(execution.span?.spanId).to.equal(execution.context.spanId);
  });
});
