import diagnostics from "node:diagnostics_channel";
import type { ClientRequest } from "node:http";
import { expect } from "chai";
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { isTracingSuppressed } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { TraceContext } from "@tracehouse/context";
import { fetchJaegerTrace, uniqueName, useJaeger } from "@tracehouse/testkit";
import type { JaegerSpan, JaegerTrace } from "@tracehouse/testkit";
import { createAgentTracer, createExecutionTracker, createProducer } from "../src/index.js";
import type { Execution, Producer } from "../src/index.js";
import { tempSpoolDir, topicFixture } from "./helpers/kafka.js";
import type { TopicFixture } from "./helpers/kafka.js";

function tag(span: JaegerSpan, key: string): unknown {
  return span.tags.find((t) => t.key === key)?.value;
}

function parentOf(span: JaegerSpan): string | undefined {
  return span.references.find((r) => r.refType === "CHILD_OF")?.spanID;
}

function single(trace: JaegerTrace, operationName: string): JaegerSpan {
  const found = trace.spans.filter((s) => s.operationName === operationName);
  expect(found, operationName).to.have.length(1);
  return found[0]!;
}

describe("OTLP export to a real Jaeger v2", function () {
  // a cold machine builds Jaeger from source first (infra/jaeger/install.sh, cached afterwards)
  this.timeout(30 * 60_000);
  let fixture: TopicFixture;
  let spool: ReturnType<typeof tempSpoolDir>;
  let producer: Producer;
  let otlpTracesUrl: string;

  before(async () => {
    ({ otlpTracesUrl } = await useJaeger());
    fixture = await topicFixture(1);
    spool = tempSpoolDir();
    producer = createProducer({
      brokers: fixture.brokers,
      topics: fixture.topics,
      spool: { dir: spool.dir },
    });
  });

  after(async () => {
    await producer?.close();
    await fixture?.cleanup();
    spool?.remove();
  });

  it("stores a multi-agent trace: one root, the sub-agent tree, GenAI attributes, tokens and errors", async () => {
    const serviceName = uniqueName("agents");
    const tracer = createAgentTracer({
      otlp: { url: otlpTracesUrl },
      providerConfig: { resource: resourceFromAttributes({ "service.name": serviceName }) },
    });
    const tracker = createExecutionTracker(producer, { tracer });
    const request = TraceContext.create({ threadId: "thread-42", userId: "user-7" });

    const supervisor = tracker.startExecution(request, { agentName: "supervisor" });
    const plan = supervisor.startLlmCall("big-model", undefined, { provider: "anthropic" });
    plan.firstToken();
    plan.end({ usage: { promptTokens: 900, completionTokens: 80 }, finishReasons: ["tool_use"] });

    const researcher = supervisor.startChild("researcher");
    researcher.startToolCall("web_search", undefined, { callId: "toolu_01" }).end({ status: "ok" });
    const read = researcher.startLlmCall("small-model", undefined, { provider: "openai" });
    read.firstToken();
    read.end({
      usage: { promptTokens: 300, completionTokens: 40, cacheReadTokens: 256 },
      responseModel: "small-model-v2",
    });
    researcher.complete("3 sources");

    const writer = supervisor.startChild("writer");
    const editor = writer.startChild("editor");
    const failing = editor.startToolCall("spell_check");
    failing.end({ error: new RangeError("dictionary missing") });
    editor.fail(new TypeError("draft unreadable"), { phase: "tool_execution" });
    writer.complete("draft");
    supervisor.complete("answer");
    await tracer.shutdown();

    const executions: Execution[] = [supervisor, researcher, writer, editor];
    const trace = await fetchJaegerTrace(request.traceId, { minSpans: 8 });
    expect(trace.traceID).to.equal(request.traceId);
    expect(trace.spans).to.have.length(8);
    for (const span of trace.spans) {
      expect(span.traceID, span.operationName).to.equal(request.traceId);
      // the defect this guards against: Jaeger's "invalid parent span IDs" on a root whose parent was never exported
      const parentWarnings = (span.warnings ?? []).filter((w) => /parent/i.test(w));
      expect(parentWarnings, `${span.operationName} warnings`).to.deep.equal([]);
    }
    expect(Object.values(trace.processes).map((p) => p.serviceName)).to.deep.equal([serviceName]);

    const roots = trace.spans.filter((s) => parentOf(s) === undefined);
    expect(roots.map((s) => s.operationName)).to.deep.equal(["invoke_agent supervisor"]);
    const spanIds = new Set(trace.spans.map((s) => s.spanID));
    for (const span of trace.spans)
      if (span !== roots[0]) expect(spanIds.has(parentOf(span)!)).to.equal(true);

    // the invoke_agent spans form the sub-agent tree
    const agentSpans = trace.spans.filter((s) => tag(s, "gen_ai.operation.name") === "invoke_agent");
    const executionOfSpan = new Map(agentSpans.map((s) => [s.spanID, tag(s, "gen_ai.agent.id")]));
    const tree = agentSpans
      .map((s) => `${executionOfSpan.get(parentOf(s) ?? "") ?? "-"} -> ${String(tag(s, "gen_ai.agent.id"))}`)
      .sort();
    const expected = executions.map((e) => `${e.parentExecutionId ?? "-"} -> ${e.executionId}`).sort();
    expect(tree).to.deep.equal(expected);
    for (const execution of executions)
      expect(executionOfSpan.get(execution.context.spanId)).to.equal(execution.executionId);

    const chat = single(trace, "chat big-model");
    expect(parentOf(chat)).to.equal(supervisor.context.spanId);
    expect(tag(chat, "span.kind")).to.equal("client");
    expect(tag(chat, "gen_ai.provider.name")).to.equal("anthropic");
    expect(tag(chat, "gen_ai.request.model")).to.equal("big-model");
    expect(tag(chat, "gen_ai.usage.input_tokens")).to.equal(900);
    expect(tag(chat, "gen_ai.usage.output_tokens")).to.equal(80);
    expect(tag(chat, "gen_ai.conversation.id")).to.equal("thread-42");
    expect(tag(chat, "gen_ai.response.time_to_first_chunk")).to.be.a("number");
    const small = single(trace, "chat small-model");
    expect(parentOf(small)).to.equal(researcher.context.spanId);
    expect(tag(small, "gen_ai.usage.cache_read.input_tokens")).to.equal(256);
    expect(tag(small, "gen_ai.response.model")).to.equal("small-model-v2");
    const search = single(trace, "execute_tool web_search");
    expect(tag(search, "gen_ai.tool.call.id")).to.equal("toolu_01");
    expect(parentOf(search)).to.equal(researcher.context.spanId);

    const supervisorSpan = single(trace, "invoke_agent supervisor");
    expect(tag(supervisorSpan, "gen_ai.agent.name")).to.equal("supervisor");
    expect(tag(supervisorSpan, "gen_ai.usage.input_tokens")).to.equal(900);

    for (const [name, message, type] of [
      ["invoke_agent editor", "draft unreadable", "TypeError"],
      ["execute_tool spell_check", "dictionary missing", "RangeError"],
    ] as const) {
      const span = single(trace, name);
      expect(tag(span, "error"), name).to.equal(true);
      expect(tag(span, "otel.status_code"), name).to.equal("ERROR");
      expect(tag(span, "error.type"), name).to.equal(type);
      const exception = span.logs.find((l) =>
        l.fields.some((f) => f.key === "event" && f.value === "exception"),
      );
      expect(exception, `${name} exception event`).not.to.equal(undefined);
      expect(exception!.fields.find((f) => f.key === "exception.message")?.value).to.equal(message);
    }
  });

  it("exports where OTEL_EXPORTER_OTLP_ENDPOINT points, named by OTEL_SERVICE_NAME", async () => {
    const serviceName = uniqueName("env_agents");
    const saved = { ...process.env };
    process.env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlpTracesUrl.replace(/\/v1\/traces$/, "");
    process.env["OTEL_SERVICE_NAME"] = serviceName;
    let tracer;
    try {
      tracer = createAgentTracer();
    } finally {
      for (const key of ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME"]) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
    const tracker = createExecutionTracker(producer, { tracer });
    const execution = tracker.startExecution(TraceContext.create(), { agentName: "from-env" });
    execution.complete();
    await tracer.shutdown();
    const trace = await fetchJaegerTrace(execution.context.traceId, { minSpans: 1 });
    expect(trace.spans.map((s) => s.operationName)).to.deep.equal(["invoke_agent from-env"]);
    expect(Object.values(trace.processes)[0]?.serviceName).to.equal(serviceName);
    expect(Object.values(trace.processes)[0]?.tags.map((t) => t.key)).to.include("telemetry.sdk.language");
  });

  it("never traces the exporter's own HTTP requests", async () => {
    // what an HTTP instrumentation consults before it makes a span: the active context
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    const suppressed: boolean[] = [];
    const onRequest = (message: unknown): void => {
      const request = (message as { request: ClientRequest }).request;
      if (request.path.endsWith("/v1/traces")) suppressed.push(isTracingSuppressed(context.active()));
    };
    diagnostics.subscribe("http.client.request.start", onRequest);
    try {
      const tracer = createAgentTracer({ otlp: { url: otlpTracesUrl } });
      const tracker = createExecutionTracker(producer, { tracer });
      const execution = tracker.startExecution(TraceContext.create(), { agentName: "quiet" });
      execution.startLlmCall("m").end({ usage: { promptTokens: 1 } });
      execution.complete();
      await tracer.shutdown();
      const trace = await fetchJaegerTrace(execution.context.traceId, { minSpans: 2 });
      expect(trace.spans).to.have.length(2);
    } finally {
      diagnostics.unsubscribe("http.client.request.start", onRequest);
      context.disable();
    }
    expect(suppressed, "export requests seen").not.to.deep.equal([]);
    expect(suppressed.every(Boolean), "tracing suppressed in every export request").to.equal(true);
  });
});
