import { expect } from "chai";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { TraceContext } from "@tracehouse/context";
import { createAgentTracer, createExecutionTracker, createProducer } from "../src/index.js";
import type { AgentTracer, ExecutionTracker, Producer } from "../src/index.js";
import { tempSpoolDir, topicFixture } from "./helpers/kafka.js";
import type { TopicFixture } from "./helpers/kafka.js";

function byName(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((s) => s.name === name);
  expect(found, `spans named ${name}: ${spans.map((s) => s.name).join(", ")}`).to.have.length(1);
  return found[0]!;
}

describe("GenAI spans (in-memory exporter)", function () {
  this.timeout(60_000);
  let fixture: TopicFixture;
  let spool: ReturnType<typeof tempSpoolDir>;
  let producer: Producer;
  let memory: InMemorySpanExporter;
  let tracer: AgentTracer;
  let tracker: ExecutionTracker;

  function setUp(options: { captureContent?: boolean } = {}): void {
    memory = new InMemorySpanExporter();
    tracer = createAgentTracer({
      otlp: false,
      spanProcessors: [new SimpleSpanProcessor(memory)],
      ...options,
    });
    tracker = createExecutionTracker(producer, { tracer });
  }

  before(async () => {
    fixture = await topicFixture(1);
    spool = tempSpoolDir();
    producer = createProducer({
      brokers: fixture.brokers,
      topics: fixture.topics,
      spool: { dir: spool.dir },
    });
  });

  beforeEach(() => setUp());

  after(async () => {
    await producer.close();
    await fixture.cleanup();
    spool.remove();
  });

  it("maps executions, LLM calls and tool calls to invoke_agent, chat and execute_tool spans", () => {
    const request = TraceContext.create({ threadId: "thread-9", userId: "user-1" });
    const root = tracker.startExecution(request, { agentName: "planner" });
    const llm = root.startLlmCall("gpt-test", { step: "plan" }, { provider: "openai" });
    llm.firstToken();
    llm.end({
      usage: {
        promptTokens: 120,
        completionTokens: 30,
        cacheReadTokens: 100,
        cacheCreationTokens: 7,
        reasoningTokens: 12,
      },
      responseModel: "gpt-test-2026",
      finishReasons: ["stop"],
    });
    const child = root.startChild("researcher");
    const tool = child.startToolCall("web_search", undefined, { callId: "call-1", type: "function" });
    tool.end({ status: "ok" });
    const embed = child.startLlmCall("embed-small", undefined, {
      operation: "embeddings",
      provider: "openai",
    });
    embed.end({ error: new RangeError("input too long") });
    child.fail(new TypeError("bad plan"), { phase: "llm_processing" });
    root.complete("done");

    const spans = memory.getFinishedSpans();
    expect(spans).to.have.length(5);
    const rootSpan = byName(spans, "invoke_agent planner");
    expect(rootSpan.parentSpanContext, "a new trace's root has no parent").to.equal(undefined);
    expect(rootSpan.spanContext().traceId).to.equal(request.traceId);
    expect(root.context.parentSpanId, "the root execution's records have no parent either").to.equal(
      undefined,
    );
    expect(rootSpan.kind).to.equal(SpanKind.INTERNAL);
    expect(rootSpan.attributes).to.include({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": "planner",
      "gen_ai.agent.id": root.executionId,
      "gen_ai.conversation.id": "thread-9",
      "gen_ai.usage.input_tokens": 120,
      "gen_ai.usage.output_tokens": 30,
      "tracehouse.execution_id": root.executionId,
    });
    expect(rootSpan.attributes["tracehouse.phase.llm_processing_ms"]).to.be.a("number");
    expect(rootSpan.status.code).to.equal(SpanStatusCode.OK);

    const chat = byName(spans, "chat gpt-test");
    expect(chat.kind).to.equal(SpanKind.CLIENT);
    expect(chat.parentSpanContext?.spanId).to.equal(rootSpan.spanContext().spanId);
    expect(chat.attributes).to.include({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": "gpt-test",
      "gen_ai.response.model": "gpt-test-2026",
      "gen_ai.usage.input_tokens": 120,
      "gen_ai.usage.output_tokens": 30,
      "gen_ai.usage.cache_read.input_tokens": 100,
      "gen_ai.usage.cache_creation.input_tokens": 7,
      "gen_ai.usage.reasoning.output_tokens": 12,
      "gen_ai.conversation.id": "thread-9",
      "gen_ai.agent.name": "planner",
    });
    expect(chat.attributes["gen_ai.response.finish_reasons"]).to.deep.equal(["stop"]);
    const ttfc = chat.attributes["gen_ai.response.time_to_first_chunk"];
    expect(ttfc).to.be.a("number").and.to.be.at.least(0).and.below(5);
    expect(chat.attributes).not.to.have.property("gen_ai.input.messages");

    const childSpan = byName(spans, "invoke_agent researcher");
    expect(childSpan.parentSpanContext?.spanId).to.equal(rootSpan.spanContext().spanId);
    expect(childSpan.attributes["tracehouse.parent_execution_id"]).to.equal(root.executionId);
    expect(childSpan.status.code).to.equal(SpanStatusCode.ERROR);
    expect(childSpan.attributes["error.type"]).to.equal("TypeError");
    const exception = childSpan.events.find((e) => e.name === "exception");
    expect(exception?.attributes?.["exception.message"]).to.equal("bad plan");

    const toolSpan = byName(spans, "execute_tool web_search");
    expect(toolSpan.kind).to.equal(SpanKind.INTERNAL);
    expect(toolSpan.parentSpanContext?.spanId).to.equal(childSpan.spanContext().spanId);
    expect(toolSpan.attributes).to.include({
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "web_search",
      "gen_ai.tool.call.id": "call-1",
      "gen_ai.tool.type": "function",
    });

    const embeddings = byName(spans, "embeddings embed-small");
    expect(embeddings.status.code).to.equal(SpanStatusCode.ERROR);
    expect(embeddings.attributes["error.type"]).to.equal("RangeError");
    expect(embeddings.events.map((e) => e.name)).to.include("exception");
  });

  it("records message content only when opted in", () => {
    for (const captureContent of [false, true]) {
      setUp({ captureContent });
      const execution = tracker.startExecution(TraceContext.create(), { agentName: "writer" });
      const llm = execution.startLlmCall("m", undefined, {
        inputMessages: [{ role: "user", parts: [{ type: "text", content: "secret question" }] }],
      });
      llm.end({
        outputMessages: [{ role: "assistant", parts: [{ type: "text", content: "secret answer" }] }],
      });
      const tool = execution.startToolCall("lookup", undefined, { arguments: { q: "secret" } });
      tool.end({ result: { rows: 1 } });
      execution.complete();
      const spans = memory.getFinishedSpans();
      const chat = byName(spans, "chat m").attributes;
      const lookup = byName(spans, "execute_tool lookup").attributes;
      if (captureContent) {
        expect(chat["gen_ai.input.messages"]).to.contain("secret question");
        expect(chat["gen_ai.output.messages"]).to.contain("secret answer");
        expect(lookup["gen_ai.tool.call.arguments"]).to.equal('{"q":"secret"}');
        expect(lookup["gen_ai.tool.call.result"]).to.equal('{"rows":1}');
      } else {
        const all = JSON.stringify(spans.map((s) => s.attributes));
        expect(all).not.to.contain("secret");
      }
    }
  });

  it("gives executions written with writeExecutionStart/Complete their span, with the context's ids", () => {
    const parentRequest = TraceContext.create();
    const own = parentRequest.child();
    expect(
      tracker.writeExecutionStart({ executionId: "exec-w1", agentName: "batcher", context: own }),
    ).to.equal(true);
    const seed = TraceContext.create();
    expect(
      tracker.writeExecutionStart({ executionId: "exec-w2", agentName: "root-writer", context: seed }),
    ).to.equal(true);
    expect(tracker.writeExecutionComplete({ executionId: "exec-w1", usage: { promptTokens: 5 } })).to.equal(
      true,
    );
    expect(
      tracker.writeExecutionComplete({ executionId: "exec-w2", error: new Error("boom"), status: "failed" }),
    ).to.equal(true);
    // an execution another process started: its span is written at completion, backdated
    const elsewhere = TraceContext.create().child();
    expect(
      tracker.writeExecutionComplete({
        executionId: "exec-w3",
        agentName: "remote-worker",
        context: elsewhere,
        durationMs: 2_000,
      }),
    ).to.equal(true);

    const spans = memory.getFinishedSpans();
    const w1 = byName(spans, "invoke_agent batcher");
    expect(w1.spanContext().spanId).to.equal(own.spanId);
    expect(w1.spanContext().traceId).to.equal(own.traceId);
    expect(w1.parentSpanContext?.spanId).to.equal(parentRequest.spanId);
    expect(w1.attributes["gen_ai.usage.input_tokens"]).to.equal(5);
    const w2 = byName(spans, "invoke_agent root-writer");
    expect(w2.spanContext().spanId).to.equal(seed.spanId);
    expect(w2.parentSpanContext).to.equal(undefined);
    expect(w2.status.code).to.equal(SpanStatusCode.ERROR);
    const w3 = byName(spans, "invoke_agent remote-worker");
    expect(w3.spanContext().spanId).to.equal(elsewhere.spanId);
    expect(w3.parentSpanContext?.spanId).to.equal(elsewhere.parentSpanId);
    const durationMs = w3.duration[0] * 1000 + w3.duration[1] / 1e6;
    expect(durationMs).to.be.within(1_990, 2_500);
  });

  it("continues a remote parent, links causing traces and marks remote agents CLIENT", () => {
    const incoming = TraceContext.fromHeaders({
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    });
    const first = tracker.startExecution(TraceContext.create(), { agentName: "job" });
    first.fail(new Error("timeout"));
    const retry = tracker.startExecution(incoming, {
      agentName: "job",
      retryOfExecutionId: first.executionId,
      links: [{ context: first.context, reason: "retry_of" }],
    });
    const remote = retry.startChild("remote-agent", { remoteAgent: true });
    remote.complete();
    retry.complete();

    const spans = memory.getFinishedSpans();
    const retrySpan = spans.find((s) => s.attributes["tracehouse.execution_id"] === retry.executionId)!;
    expect(retrySpan.spanContext().traceId).to.equal("0af7651916cd43dd8448eb211c80319c");
    expect(retrySpan.parentSpanContext?.spanId).to.equal("b7ad6b7169203331");
    expect(retrySpan.attributes["tracehouse.retry_of_execution_id"]).to.equal(first.executionId);
    expect(retrySpan.links).to.have.length(1);
    expect(retrySpan.links[0]!.context.traceId).to.equal(first.context.traceId);
    expect(retrySpan.links[0]!.context.spanId).to.equal(first.context.spanId);
    expect(retrySpan.links[0]!.attributes).to.deep.equal({ "tracehouse.link.reason": "retry_of" });
    expect(byName(spans, "invoke_agent remote-agent").kind).to.equal(SpanKind.CLIENT);
  });

  it("keeps a new trace unsampled when its seed context says so", () => {
    const execution = tracker.startExecution(TraceContext.create({ sampled: false }), { agentName: "quiet" });
    execution.startLlmCall("m").end();
    execution.complete();
    expect(memory.getFinishedSpans()).to.deep.equal([]);
    const sampled = tracker.startExecution(TraceContext.create(), { agentName: "loud" });
    sampled.complete();
    expect(memory.getFinishedSpans().map((s) => s.name)).to.deep.equal(["invoke_agent loud"]);
  });

  it("keeps the SDK's default resource and honours OTEL_SERVICE_NAME", () => {
    const saved = process.env["OTEL_SERVICE_NAME"];
    process.env["OTEL_SERVICE_NAME"] = "support-agent";
    try {
      setUp();
    } finally {
      if (saved === undefined) delete process.env["OTEL_SERVICE_NAME"];
      else process.env["OTEL_SERVICE_NAME"] = saved;
    }
    tracker.startExecution(TraceContext.create(), { agentName: "a" }).complete();
    const resource = memory.getFinishedSpans()[0]!.resource.attributes;
    expect(resource["service.name"]).to.equal("support-agent");
    expect(resource["telemetry.sdk.language"]).to.equal("nodejs");
    expect(resource["telemetry.sdk.name"]).to.equal("opentelemetry");
  });
});
