import { expect } from "chai";
import { TraceContext } from "@tracehouse/context";
import { AgentEventKind, ExecutionLifecycle, RecordType } from "@tracehouse/schemas";
import type { DecodedRecord } from "@tracehouse/schemas";
import { createAgentTracer, createExecutionTracker, createProducer } from "../src/index.js";
import { contentTypeOfReceived, useTopicsAndSpool } from "./helpers/kafka.js";
import type { Received } from "./helpers/kafka.js";

type RecordOfType<T extends DecodedRecord["type"]> = Extract<DecodedRecord, { type: T }>["record"];

function ofType<T extends DecodedRecord["type"]>(received: readonly Received[], type: T): RecordOfType<T>[] {
  return received.filter((m) => m.decoded.type === type).map((m) => m.decoded.record as RecordOfType<T>);
}

describe("nested sub-agents", function () {
  this.timeout(120_000);
  const setup = useTopicsAndSpool();

  it("arrive decodable, keyed by trace id, with parent/child ids, correlations, spans and W3C headers", async () => {
    const producer = createProducer({
      brokers: setup.fixture.brokers,
      topics: setup.fixture.topics,
      spool: { dir: setup.spool.dir },
    });
    const tracer = createAgentTracer({ producer });
    const tracker = createExecutionTracker(producer, { tracer });
    const request = TraceContext.create({
      userId: "user-7",
      threadId: "thread-3",
      baggage: { tenant: "acme" },
    });

    const root = tracker.startExecution(request, { agentName: "planner", input: { task: "plan a trip" } });
    const child = root.startChild("researcher", { input: "find flights" });
    const tool = child.startToolCall("flight_search", { provider: "test" });
    const grandchild = child.startChild("summarizer");
    const llm = grandchild.startLlmCall("small-model");
    llm.firstToken();
    llm.end({ usage: { promptTokens: 120, completionTokens: 30 } });
    expect(grandchild.fail(new RangeError("summary too long"), { phase: "llm_processing" })).to.equal(true);
    tool.end({ status: "ok" });
    child.recordWebSocketNotification("updates", { durationMs: 2, latencyMs: 5, payloadBytes: 512 });
    expect(child.complete({ flights: 3 })).to.equal(true);
    expect(root.complete("done", { usage: { promptTokens: 10 } })).to.equal(true);
    expect(tracker.openExecutions).to.equal(0);

    await tracer.forceFlush();
    await producer.flush({ timeoutMs: 30_000 });
    const expected = producer.stats().accepted;
    await producer.close();
    await tracer.shutdown();
    const received = await setup.fixture.consume(expected);
    expect(received).to.have.length(expected);

    for (const message of received) {
      const record = message.decoded.record;
      expect(record.trace_id).to.equal(request.traceId);
      expect(message.key).to.equal(request.traceId);
      expect(contentTypeOfReceived(message)).to.equal(message.decoded.type);
      expect(message.topic).to.equal(setup.fixture.topics.topicFor(message.decoded.type));
      expect(message.headers.traceparent).to.match(
        new RegExp(`^00-${request.traceId}-${record.span_id}-0[13]$`),
      );
      // spans carry the identity fields as attributes; other baggage does not travel with OpenTelemetry spans
      expect(message.headers.baggage).to.include("th.user_id=user-7");
      if (message.decoded.type !== RecordType.Span) expect(message.headers.baggage).to.include("tenant=acme");
      expect(record.user_id).to.equal("user-7");
      expect(record.thread_id).to.equal("thread-3");
    }

    // one execution per agent, each its own span, parented along the call chain
    const executions = ofType(received, RecordType.Execution);
    const started = new Map(
      executions.filter((e) => e.lifecycle === ExecutionLifecycle.Started).map((e) => [e.agent_name, e]),
    );
    const planner = started.get("planner")!;
    const researcher = started.get("researcher")!;
    const summarizer = started.get("summarizer")!;
    expect(planner.execution_id).to.equal(root.executionId);
    expect(planner.parent_span_id, "a new trace's root has no parent").to.equal(null);
    expect(planner.parent_execution_id).to.equal(null);
    expect(planner.input_summary).to.equal('{"task":"plan a trip"}');
    expect(researcher.parent_execution_id).to.equal(root.executionId);
    expect(researcher.parent_span_id).to.equal(planner.span_id);
    expect(summarizer.parent_execution_id).to.equal(child.executionId);
    expect(summarizer.parent_span_id).to.equal(researcher.span_id);
    expect(new Set([planner.span_id, researcher.span_id, summarizer.span_id]).size).to.equal(3);

    const ends = executions.filter((e) => e.lifecycle !== ExecutionLifecycle.Started);
    const failed = ends.find((e) => e.agent_name === "summarizer")!;
    expect(failed.lifecycle).to.equal(ExecutionLifecycle.Failed);
    expect(failed.error_message).to.equal("summary too long");
    expect(ends.find((e) => e.agent_name === "researcher")!.result_summary).to.equal('{"flights":3}');

    const correlations = ofType(received, RecordType.Correlation);
    expect(correlations).to.have.length(2);
    const toResearcher = correlations.find((c) => c.child_agent_name === "researcher")!;
    expect(toResearcher.parent_execution_id).to.equal(root.executionId);
    expect(toResearcher.execution_id).to.equal(root.executionId);
    expect(toResearcher.span_id).to.equal(planner.span_id);
    expect(toResearcher.child_execution_id).to.equal(child.executionId);
    expect(toResearcher.child_span_id).to.equal(researcher.span_id);
    expect(toResearcher.relationship).to.equal("SUBAGENT");
    const toSummarizer = correlations.find((c) => c.child_agent_name === "summarizer")!;
    expect(toSummarizer.parent_execution_id).to.equal(child.executionId);
    expect(toSummarizer.child_span_id).to.equal(summarizer.span_id);

    const events = ofType(received, RecordType.Event);
    expect(events.map((e) => e.event_kind).sort()).to.deep.equal(
      [
        AgentEventKind.ToolCallStart,
        AgentEventKind.ToolCallEnd,
        AgentEventKind.LlmCallStart,
        AgentEventKind.LlmFirstToken,
        AgentEventKind.LlmCallEnd,
        AgentEventKind.WebsocketNotification,
      ].sort(),
    );
    const toolEnd = events.find((e) => e.event_kind === AgentEventKind.ToolCallEnd)!;
    expect(toolEnd.execution_id).to.equal(child.executionId);
    expect(toolEnd.span_id).to.equal(researcher.span_id);
    expect(toolEnd.duration_ms).to.be.a("number").and.at.least(0);

    const errors = ofType(received, RecordType.Error);
    expect(errors).to.have.length(1);
    expect(errors[0]!.error_class).to.equal("RangeError");
    expect(errors[0]!.phase).to.equal("llm_processing");
    expect(errors[0]!.execution_id).to.equal(grandchild.executionId);

    const metrics = ofType(received, RecordType.Metrics);
    expect(metrics.map((m) => m.agent_name).sort()).to.deep.equal(["planner", "researcher", "summarizer"]);
    const summarizerMetrics = metrics.find((m) => m.agent_name === "summarizer")!;
    expect(summarizerMetrics.prompt_tokens).to.equal(120);
    expect(summarizerMetrics.completion_tokens).to.equal(30);
    expect(summarizerMetrics.time_to_first_token_ms).to.be.a("number");
    const researcherMetrics = metrics.find((m) => m.agent_name === "researcher")!;
    expect(researcherMetrics.websocket_latency_ms).to.equal(5);
    expect(researcherMetrics.websocket_notification_ms).to.equal(2);
    expect(researcherMetrics.tool_execution_ms).to.be.greaterThan(0);

    // the OpenTelemetry spans have the executions' ids; LLM and tool calls are spans under them
    const allSpans = ofType(received, RecordType.Span);
    expect(allSpans.map((s) => s.name).sort()).to.deep.equal(
      [
        "chat small-model",
        "execute_tool flight_search",
        "invoke_agent planner",
        "invoke_agent researcher",
        "invoke_agent summarizer",
      ].sort(),
    );
    const spans = allSpans.filter((s) => s.name.startsWith("invoke_agent "));
    const spanOf = (agent: string) => spans.find((s) => s.agent_name === agent)!;
    const named = (name: string) => allSpans.find((s) => s.name === name)!;
    expect(named("chat small-model").parent_span_id).to.equal(summarizer.span_id);
    expect(named("chat small-model").execution_id).to.equal(grandchild.executionId);
    expect(named("execute_tool flight_search").parent_span_id).to.equal(researcher.span_id);
    expect(spanOf("planner").span_id).to.equal(planner.span_id);
    expect(spanOf("planner").parent_span_id).to.equal(null);
    expect(spanOf("researcher").span_id).to.equal(researcher.span_id);
    expect(spanOf("researcher").parent_span_id).to.equal(planner.span_id);
    expect(spanOf("summarizer").parent_span_id).to.equal(researcher.span_id);
    expect(spanOf("summarizer").status_code).to.equal("ERROR");
    expect(spanOf("summarizer").events.map((e) => e.name)).to.include("exception");
    expect(spanOf("planner").status_code).to.equal("OK");
    expect(spanOf("planner").execution_id).to.equal(root.executionId);
    expect(spanOf("planner").end_time).to.be.at.least(spanOf("planner").start_time);
  });

  it("takes the platform's write* calls and standalone agent spans, answering true or false", async () => {
    const producer = createProducer({
      brokers: setup.fixture.brokers,
      topics: setup.fixture.topics,
      spool: false,
    });
    const tracer = createAgentTracer({ producer });
    const tracker = createExecutionTracker(producer);
    const context = TraceContext.create({ correlationId: "corr-1" });
    const executionId = "0192f0c4-7a10-7c3e-9f00-0a1b2c3d4e5f";

    expect(
      tracker.writeExecutionStart({ executionId, agentName: "billing", context, input: "refund #42" }),
    ).to.equal(true);
    expect(tracker.writeExecutionUpdate({ executionId, status: "waiting_for_tool" })).to.equal(true);
    expect(
      tracker.writePerformanceMetrics({ executionId, metrics: { llmProcessingMs: 250, promptTokens: 40 } }),
    ).to.equal(true);
    expect(tracker.writeExecutionComplete({ executionId, result: { refunded: true } })).to.equal(true);
    expect(tracker.writeExecutionUpdate({ executionId: "unknown-run", status: "late", context })).to.equal(
      true,
    );
    expect(tracker.writeExecutionStart({ executionId: "x", agentName: "", context })).to.equal(false);
    expect(
      tracker.writeExecutionUpdate({ executionId: "bad", status: "x", context, metadata: { n: 1 as never } }),
    ).to.equal(false);

    const span = tracer.startAgentSpan("standalone", context, { executionId });
    expect(span.context.spanId).to.equal(span.span.spanContext().spanId);
    expect(span.context.parentSpanId, "a new trace's root has no parent").to.equal(undefined);
    span.addEvent("step", { n: 1 }).setStatus("OK");
    span.end();

    await tracer.forceFlush();
    await producer.close();
    expect(tracker.writeExecutionUpdate({ executionId: "after-close", status: "x", context })).to.equal(
      false,
    );
    const expected = producer.stats().accepted;
    expect(expected).to.equal(6);
    const received = await setup.fixture.consume(expected);
    const executions = ofType(received, RecordType.Execution).filter((e) => e.execution_id === executionId);
    expect(executions.map((e) => [e.lifecycle, e.status])).to.deep.equal([
      ["STARTED", "running"],
      ["UPDATED", "waiting_for_tool"],
      ["COMPLETED", "completed"],
    ]);
    for (const e of executions) {
      expect(e.span_id).to.equal(context.spanId);
      expect(e.correlation_id).to.equal("corr-1");
      expect(e.agent_name).to.equal("billing");
    }
    expect(executions[2]!.result_summary).to.equal('{"refunded":true}');
    const metrics = ofType(received, RecordType.Metrics);
    expect(metrics).to.have.length(1);
    expect(metrics[0]!.llm_processing_ms).to.equal(250);
    expect(metrics[0]!.prompt_tokens).to.equal(40);
    const late = ofType(received, RecordType.Execution).find((e) => e.execution_id === "unknown-run")!;
    expect(late.agent_name).to.equal(null);
    const [spanRecord] = ofType(received, RecordType.Span);
    expect(spanRecord!.span_id).to.equal(span.context.spanId);
    expect(spanRecord!.parent_span_id).to.equal(null);
    expect(spanRecord!.correlation_id).to.equal("corr-1");
    expect(spanRecord!.events.map((e) => [e.name, e.attributes])).to.deep.equal([["step", { n: "1" }]]);
    expect(spanRecord!.status_code).to.equal("OK");
    await tracer.shutdown();
  });

  it("keeps token usage given at completion after the metrics record was written, without counting anything twice", async () => {
    const producer = createProducer({
      brokers: setup.fixture.brokers,
      topics: setup.fixture.topics,
      spool: false,
    });
    const tracker = createExecutionTracker(producer);
    const context = TraceContext.create();
    const early = "0192f0c4-7a10-7c3e-9f00-00000000000a";
    const failing = "0192f0c4-7a10-7c3e-9f00-00000000000b";
    const elsewhere = "0192f0c4-7a10-7c3e-9f00-00000000000c";
    const quiet = "0192f0c4-7a10-7c3e-9f00-00000000000d";

    expect(tracker.writeExecutionStart({ executionId: early, agentName: "billing", context })).to.equal(true);
    expect(
      tracker.writePerformanceMetrics({
        executionId: early,
        metrics: { llmProcessingMs: 250, totalMs: 400, timeToFirstTokenMs: 90, promptTokens: 40 },
      }),
    ).to.equal(true);
    expect(
      tracker.writeExecutionComplete({
        executionId: early,
        usage: { promptTokens: 10, completionTokens: 7 },
      }),
    ).to.equal(true);

    expect(tracker.writeExecutionStart({ executionId: failing, agentName: "billing", context })).to.equal(
      true,
    );
    expect(
      tracker.writeExecutionComplete({
        executionId: failing,
        error: new Error("tool down"),
        usage: { promptTokens: 5, completionTokens: 1 },
      }),
    ).to.equal(true);

    expect(
      tracker.writeExecutionComplete({
        executionId: elsewhere,
        agentName: "billing",
        context,
        usage: { promptTokens: 3 },
      }),
    ).to.equal(true);

    expect(tracker.writeExecutionStart({ executionId: quiet, agentName: "billing", context })).to.equal(true);
    expect(tracker.writePerformanceMetrics({ executionId: quiet, metrics: { promptTokens: 2 } })).to.equal(
      true,
    );
    expect(tracker.writeExecutionComplete({ executionId: quiet })).to.equal(true);

    await producer.close();
    const received = await setup.fixture.consume(producer.stats().accepted);
    const metrics = ofType(received, RecordType.Metrics);
    const of = (executionId: string) => metrics.filter((m) => m.execution_id === executionId);

    const [first, usage] = of(early);
    expect(of(early)).to.have.length(2);
    expect(first).to.deep.include({ llm_processing_ms: 250, total_ms: 400, prompt_tokens: 40 });
    expect(first!.time_to_first_token_ms).to.equal(90);
    expect(usage).to.deep.include({
      prompt_tokens: 10,
      completion_tokens: 7,
      initialization_ms: 0,
      tool_execution_ms: 0,
      llm_processing_ms: 0,
      websocket_notification_ms: 0,
      total_ms: 0,
      time_to_first_token_ms: null,
    });
    const sum = (records: typeof metrics, field: "prompt_tokens" | "completion_tokens" | "total_ms") =>
      records.reduce((total, m) => total + (m[field] ?? 0), 0);
    expect(sum(of(early), "prompt_tokens")).to.equal(50);
    expect(sum(of(early), "completion_tokens")).to.equal(7);
    expect(sum(of(early), "total_ms")).to.equal(400);
    expect(of(early).filter((m) => m.time_to_first_token_ms !== null)).to.have.length(1);

    expect(of(failing)).to.have.length(1);
    expect(of(failing)[0]).to.deep.include({ prompt_tokens: 5, completion_tokens: 1 });
    expect(of(elsewhere)).to.have.length(1);
    expect(of(elsewhere)[0]).to.deep.include({ prompt_tokens: 3, completion_tokens: null, total_ms: 0 });
    expect(of(quiet), "nothing added after the metrics record: no second one").to.have.length(1);

    const lifecycles = ofType(received, RecordType.Execution).map((e) => [e.execution_id, e.lifecycle]);
    expect(lifecycles).to.deep.include.members([
      [early, ExecutionLifecycle.Completed],
      [failing, ExecutionLifecycle.Failed],
      [elsewhere, ExecutionLifecycle.Completed],
      [quiet, ExecutionLifecycle.Completed],
    ]);
  });
});
