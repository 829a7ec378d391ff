import { SpanKind, SpanStatusCode, context, trace } from "@opentelemetry/api";
import type { Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter as GrpcExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { OTLPTraceExporter as HttpJsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as HttpProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import { expect } from "chai";
import { executionIdOf } from "../src/index.js";
import type { Receiver } from "../src/index.js";
import { ofType, topicFixture } from "./helpers/kafka.js";
import type { TopicFixture } from "./helpers/kafka.js";

/**
 * A multi-agent GenAI trace, written with the OpenTelemetry SDK and exported span by span
 * (SimpleSpanProcessor: one export request per ended span, so every child reaches the
 * receiver before its parent).
 */
function writeAgentTrace(tracer: Tracer): string {
  const root = tracer.startSpan("POST /ask", {
    kind: SpanKind.SERVER,
    attributes: { "http.request.method": "POST" },
  });
  const rootCtx = trace.setSpan(context.active(), root);
  const planner = tracer.startSpan(
    "invoke_agent planner",
    {
      kind: SpanKind.INTERNAL,
      attributes: {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "planner",
        "gen_ai.conversation.id": "thread-7",
        "user.id": "user-42",
      },
    },
    rootCtx,
  );
  const plannerCtx = trace.setSpan(rootCtx, planner);
  const chat = tracer.startSpan(
    "chat gpt-4o",
    {
      kind: SpanKind.CLIENT,
      attributes: {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.usage.output_tokens": 30,
        "gen_ai.response.time_to_first_chunk": 0.25,
        "gen_ai.response.finish_reasons": ["stop"],
      },
    },
    plannerCtx,
  );
  chat.end();
  const tool = tracer.startSpan(
    "execute_tool search",
    {
      attributes: {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "search",
        "gen_ai.tool.call.id": "call-1",
      },
    },
    plannerCtx,
  );
  tool.recordException(Object.assign(new Error("search backend timed out"), { name: "TimeoutError" }));
  tool.setStatus({ code: SpanStatusCode.ERROR, message: "search backend timed out" });
  tool.setAttribute("error.type", "TimeoutError");
  tool.end();
  const researcher = tracer.startSpan(
    "invoke_agent researcher",
    { attributes: { "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "researcher" } },
    plannerCtx,
  );
  const researcherCtx = trace.setSpan(plannerCtx, researcher);
  const embed = tracer.startSpan(
    "embeddings text-embedding-3-small",
    {
      kind: SpanKind.CLIENT,
      attributes: {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.request.model": "text-embedding-3-small",
        "gen_ai.usage.input_tokens": 8,
      },
    },
    researcherCtx,
  );
  embed.end();
  researcher.end();
  planner.end();
  root.end();
  return root.spanContext().traceId;
}

const EXPORTERS: Record<string, (receiver: Receiver) => SpanExporter> = {
  "OTLP/HTTP protobuf": (receiver) =>
    new HttpProtoExporter({ url: `${receiver.addresses().http}/v1/traces` }),
  "OTLP/HTTP JSON": (receiver) => new HttpJsonExporter({ url: `${receiver.addresses().http}/v1/traces` }),
  "OTLP/gRPC": (receiver) => new GrpcExporter({ url: `http://${receiver.addresses().grpc}` }),
};

describe("OpenTelemetry SDK exporters → receiver → Kafka", function () {
  let fixture: TopicFixture;
  let receiver: Receiver;
  const traces = new Map<string, string>();
  let all: Awaited<ReturnType<TopicFixture["consume"]>>;

  before(async function () {
    fixture = await topicFixture();
    // two producers: records of one trace must still stay together and in order
    receiver = await fixture.receiver({ producers: 2 });
    for (const [name, exporterOf] of Object.entries(EXPORTERS)) {
      const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ "service.name": `svc-${name}`, "deployment.environment": "test" }),
        spanProcessors: [new SimpleSpanProcessor(exporterOf(receiver))],
      });
      traces.set(name, writeAgentTrace(provider.getTracer("agent-lib", "1.2.3")));
      await provider.forceFlush();
      await provider.shutdown();
    }
    // per trace: 6 spans, 4 executions, 5 metrics, 7 events, 1 error, 1 correlation
    all = await fixture.consume(3 * 24, 30_000);
  });

  after(async () => fixture.cleanup());

  for (const name of Object.keys(EXPORTERS)) {
    describe(name, function () {
      let records: Awaited<ReturnType<TopicFixture["consume"]>>;
      let traceId: string;

      before(function () {
        traceId = traces.get(name) as string;
        records = all.filter((r) => r.record.trace_id === traceId);
      });

      it("writes every span as a span record with its resource and scope, each record once", function () {
        expect(records).to.have.length(24);
        const spans = ofType(records, "span");
        expect(spans.map((s) => s["name"]).sort()).to.deep.equal([
          "POST /ask",
          "chat gpt-4o",
          "embeddings text-embedding-3-small",
          "execute_tool search",
          "invoke_agent planner",
          "invoke_agent researcher",
        ]);
        const server = spans.find((s) => s["name"] === "POST /ask") as Record<string, unknown>;
        expect(server["kind"]).to.equal("SERVER");
        expect(server["parent_span_id"]).to.equal(null);
        expect(server["metadata"]).to.include({
          "service.name": `svc-${name}`,
          "deployment.environment": "test",
          "otel.scope.name": "agent-lib",
          "otel.scope.version": "1.2.3",
        });
        expect(server["attributes"]).to.deep.equal({ "http.request.method": "POST" });
      });

      it("turns invoke_agent spans into executions, the nested one a sub-agent with its correlation", function () {
        const spans = ofType(records, "span");
        const spanId = (spanName: string): string =>
          (spans.find((s) => s["name"] === spanName) as Record<string, unknown>)["span_id"] as string;
        const planner = executionIdOf(traceId, spanId("invoke_agent planner"));
        const researcher = executionIdOf(traceId, spanId("invoke_agent researcher"));
        const executions = ofType(records, "execution");
        expect(executions.map((e) => `${e["agent_name"]}:${e["lifecycle"]}`).sort()).to.deep.equal([
          "planner:COMPLETED",
          "planner:STARTED",
          "researcher:COMPLETED",
          "researcher:STARTED",
        ]);
        for (const e of executions.filter((x) => x["agent_name"] === "researcher")) {
          expect(e["execution_id"]).to.equal(researcher);
          expect(e["parent_execution_id"]).to.equal(planner);
        }
        const plannerStart = executions.find(
          (e) => e["agent_name"] === "planner" && e["lifecycle"] === "STARTED",
        ) as Record<string, unknown>;
        expect(plannerStart).to.include({ execution_id: planner, user_id: "user-42", thread_id: "thread-7" });
        const correlations = ofType(records, "correlation");
        expect(correlations).to.have.length(1);
        expect(correlations[0]).to.include({
          parent_execution_id: planner,
          child_execution_id: researcher,
          child_agent_name: "researcher",
          relationship: "SUBAGENT",
        });
      });

      it("attaches LLM and tool calls that arrived before their agent to its execution, with tokens and TTFT", function () {
        const spans = ofType(records, "span");
        const spanId = (spanName: string): string =>
          (spans.find((s) => s["name"] === spanName) as Record<string, unknown>)["span_id"] as string;
        const planner = executionIdOf(traceId, spanId("invoke_agent planner"));
        const researcher = executionIdOf(traceId, spanId("invoke_agent researcher"));
        const events = ofType(records, "event");
        const kinds = (execution: string): string[] =>
          events
            .filter((e) => e["execution_id"] === execution)
            .map((e) => `${e["event_kind"]}:${e["name"]}`)
            .sort();
        expect(kinds(planner)).to.deep.equal([
          "LLM_CALL_END:gpt-4o",
          "LLM_CALL_START:gpt-4o",
          "LLM_FIRST_TOKEN:gpt-4o",
          "TOOL_CALL_END:search",
          "TOOL_CALL_START:search",
        ]);
        expect(kinds(researcher)).to.deep.equal([
          "LLM_CALL_END:text-embedding-3-small",
          "LLM_CALL_START:text-embedding-3-small",
        ]);
        const toolEnd = events.find((e) => e["event_kind"] === "TOOL_CALL_END") as Record<string, unknown>;
        expect(toolEnd["status"]).to.equal("error");
        const llmMetrics = ofType(records, "metrics").find(
          (m) => m["execution_id"] === planner && m["prompt_tokens"] !== null,
        ) as Record<string, unknown>;
        expect(llmMetrics).to.include({
          prompt_tokens: 120,
          completion_tokens: 30,
          time_to_first_token_ms: 250,
        });
      });

      it("turns the exception event and error status into an error record", function () {
        const errors = ofType(records, "error");
        expect(errors).to.have.length(1);
        expect(errors[0]).to.include({
          error_class: "TimeoutError",
          message: "search backend timed out",
          phase: "tool_execution",
          severity: "ERROR",
        });
        expect(errors[0]?.["stack"]).to.be.a("string");
      });
    });
  }
});
