import type { ExecutionNode, StoredRecord } from "@tracehouse/clickhouse";
import { createAgentTracer, createExecutionTracker } from "@tracehouse/producer";
import type { AgentTracer } from "@tracehouse/producer";
import { AgentEventKind } from "@tracehouse/schemas";
import { expect } from "chai";
import { NotificationHub } from "../src/demo/notifications.js";
import { Agent, runConversation } from "../src/demo/platform.js";
import type { Conversation, Platform } from "../src/demo/platform.js";
import { createRandom } from "../src/demo/random.js";
import { startToolService, TOOL_SERVICE_AGENT } from "../src/demo/tool-service.js";
import type { ToolService } from "../src/demo/tool-service.js";
import { openPipeline, pollUntil, workerCounts } from "../src/harness/index.js";
import type { Pipeline } from "../src/harness/index.js";

function child(node: ExecutionNode, agentName: string): ExecutionNode {
  const found = node.children.filter((c) => c.agentName === agentName);
  expect(found, `${agentName} under ${node.agentName}`).to.have.length(1);
  return found[0]!;
}

function onlySpan(node: ExecutionNode, kind: string, namePrefix = ""): StoredRecord {
  const spans = node.spans.filter(
    (span) => span["kind"] === kind && String(span["name"]).startsWith(namePrefix),
  );
  expect(spans, `${kind} span of ${node.agentName}`).to.have.length(1);
  return spans[0]!;
}

describe("the demo platform through the whole pipeline", function () {
  this.timeout(180_000);

  let pipeline: Pipeline;
  let tracers: AgentTracer[] = [];
  let toolService: ToolService | null = null;
  let notifications: NotificationHub | null = null;

  beforeEach(async function () {
    pipeline = await openPipeline({ name: "platform", partitions: 2 });
  });

  afterEach(async function () {
    await toolService?.close();
    notifications?.close();
    await Promise.all(tracers.map((tracer) => tracer.shutdown()));
    tracers = [];
    await pipeline?.close();
  });

  it("keeps two services, HTTP calls and sub-agents in one trace per conversation, every record stored once", async function () {
    const platformProducer = pipeline.createProducer({ clientId: "agent-platform" });
    const toolProducer = pipeline.createProducer({ clientId: "tool-service" });
    const platformTracer = createAgentTracer({ producer: platformProducer });
    const toolTracer = createAgentTracer({ producer: toolProducer });
    tracers = [platformTracer, toolTracer];
    toolService = await startToolService({
      tracker: createExecutionTracker(toolProducer, { tracer: toolTracer }),
      random: createRandom(1),
      failureRate: 0,
    });
    notifications = new NotificationHub();
    const platform: Platform = {
      tracker: createExecutionTracker(platformProducer, { tracer: platformTracer }),
      tracer: platformTracer,
      notifications,
      toolServiceUrl: toolService.url,
      // deterministic outcomes: every fact-check fails, nothing else does
      failures: { rateLimit: 0, unsupportedClaim: 1, contextWindow: 0 },
    };
    const conversations: Conversation[] = await Promise.all(
      [0, 1, 2].map((index) => runConversation(platform, index, createRandom(100 + index))),
    );
    await Promise.all(tracers.map((tracer) => tracer.shutdown()));

    const emitted = pipeline.emitted();
    expect(toolProducer.emitted.length, "records of the tool service").to.be.greaterThan(0);
    await pipeline.waitUntilQueryable(emitted, { timeoutMs: 90_000 });
    const counts = await pollUntil(
      async () => {
        const current = await workerCounts(pipeline.worker);
        return current.written >= emitted.length ? current : undefined;
      },
      { what: "the worker to count every record written", timeoutMs: 30_000 },
    );
    // a rebalance may deliver a record twice (counted twice here, stored once: see the distinct count below)
    expect(counts.written).to.be.at.least(emitted.length);
    expect(counts.deadLettered).to.equal(0);
    const lag = await pollUntil(
      async () => {
        const current = await pipeline.lag();
        return current.total === 0 ? current : undefined;
      },
      { what: "the worker to commit every offset", timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(lag.total).to.equal(0);
    expect(notifications.lostContexts).to.equal(0);

    const distinct = await pipeline.sink.query<{ n: number }>(
      `SELECT sum(n) AS n FROM (
         SELECT uniqExact(event_id) AS n FROM ${pipeline.database}.agent_executions UNION ALL
         SELECT uniqExact(event_id) FROM ${pipeline.database}.agent_events UNION ALL
         SELECT uniqExact(event_id) FROM ${pipeline.database}.performance_metrics UNION ALL
         SELECT uniqExact(event_id) FROM ${pipeline.database}.trace_correlations UNION ALL
         SELECT uniqExact(event_id) FROM ${pipeline.database}.error_logs UNION ALL
         SELECT uniqExact(event_id) FROM ${pipeline.database}.spans)`,
    );
    expect(distinct[0]?.n).to.equal(emitted.length);

    for (const conversation of conversations) {
      expect(conversation).to.include({ failed: false, retries: 0 });
      const tree = await pipeline.queries.getTrace(conversation.traceId);
      expect(tree, `trace of conversation ${conversation.index}`).to.not.equal(null);
      expect(tree!.roots).to.have.length(1);
      const supervisor = tree!.roots[0]!;
      const userId = `user-${conversation.index + 1}`;
      expect(supervisor).to.include({
        executionId: conversation.rootExecutionId,
        agentName: Agent.Supervisor,
        lifecycle: "COMPLETED",
        userId,
      });
      expect(supervisor.children.map((c) => c.agentName).sort()).to.deep.equal([
        Agent.Researcher,
        Agent.Writer,
      ]);
      const researcher = child(supervisor, Agent.Researcher);
      expect(researcher.relationship).to.equal("SUBAGENT");

      const checker = child(researcher, Agent.FactChecker);
      expect(checker.lifecycle).to.equal("FAILED");
      expect(checker.errors.map((e) => [e["error_class"], e["severity"], e["retriable"]])).to.deep.equal([
        ["UnsupportedClaim", "ERROR", false],
      ]);

      // the tool service's execution: restored from the HTTP headers, in the caller's trace, under the caller
      const tool = child(researcher, TOOL_SERVICE_AGENT);
      expect(tool).to.include({ parentExecutionId: researcher.executionId, lifecycle: "COMPLETED", userId });
      const client = onlySpan(researcher, "CLIENT", "POST ");
      expect(client["name"]).to.equal("POST /tools/web_search");
      const server = onlySpan(tool, "INTERNAL", "invoke_agent ");
      expect(server).to.include({
        trace_id: conversation.traceId,
        parent_span_id: client.span_id,
        user_id: userId,
      });
      expect(tool.spanId).to.equal(server.span_id);
      expect(tool.events.map((e) => e["name"])).to.include("cache_lookup");

      const writer = child(supervisor, Agent.Writer);
      const delivered = writer.events.filter((e) => e["event_kind"] === AgentEventKind.WebsocketNotification);
      expect(delivered.length).to.be.greaterThan(0);
      for (const event of delivered) expect(event["status"]).to.equal("delivered");
      expect(writer.metrics[0]?.["time_to_first_token_ms"]).to.be.a("number");
      expect(writer.metrics[0]?.["websocket_latency_ms"]).to.be.a("number");
    }
  });
});
