import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createSink, TraceQueries } from "@tracehouse/clickhouse";
import type { ExecutionNode, TraceTree } from "@tracehouse/clickhouse";
import { RECORD_TYPES } from "@tracehouse/schemas";
import { uniqueName } from "@tracehouse/testkit";
import { createWorker } from "@tracehouse/worker";
import { expect } from "chai";
import type { Receiver } from "../src/index.js";
import { topicFixture } from "./helpers/kafka.js";
import type { TopicFixture } from "./helpers/kafka.js";
import { pythonEnv, startAgentService } from "./helpers/python.js";
import type { PythonService } from "./helpers/python.js";

const CLI = fileURLToPath(new URL("../../cli/src/bin.ts", import.meta.url));

function runCli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function findNode(nodes: readonly ExecutionNode[], agent: string): ExecutionNode | undefined {
  for (const node of nodes) {
    if (node.agentName === agent) return node;
    const found = findNode(node.children, agent);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * A Python FastAPI service, instrumented with opentelemetry-instrumentation-fastapi and
 * exporting with opentelemetry-exporter-otlp (gRPC, BatchSpanProcessor), creates GenAI spans;
 * the receiver turns them into records, a worker projects them into the embedded engine,
 * and `tracehouse trace` shows the execution tree.
 */
describe("Python FastAPI service → receiver → Kafka → worker → tracehouse trace", function () {
  this.timeout(900_000);
  let fixture: TopicFixture;
  let receiver: Receiver;
  let service: PythonService;
  let dataDir: string;
  let traceId: string;
  const database = "th_receiver_e2e";

  before(async function () {
    pythonEnv();
    fixture = await topicFixture();
    receiver = await fixture.receiver();
    dataDir = mkdtempSync(path.join(tmpdir(), "tracehouse-receiver-e2e-"));
    const port = 20000 + Math.floor(Math.random() * 20000);
    service = await startAgentService(port, {
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://${receiver.addresses().grpc}`,
      OTEL_EXPORTER_OTLP_INSECURE: "true",
    });
    const response = await fetch(`${service.url}/ask`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: "user-py", conversation: "conv-py" }),
    });
    expect(response.status, service.output()).to.equal(200);
    traceId = ((await response.json()) as { trace_id: string }).trace_id;
    // the server span ends after the response: let the batch processor take it, then flush
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await fetch(`${service.url}/flush`, { method: "POST" })).status).to.equal(200);
    await service.stop();
  });

  after(async () => {
    await service?.stop();
    await fixture?.cleanup();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it("projects the trace into an execution tree with its sub-agent, LLM and tool calls, tokens and error", async function () {
    const sink = createSink({ dataDir, database });
    const worker = createWorker({
      brokers: fixture.brokers,
      groupId: uniqueName("receiver_e2e"),
      topics: RECORD_TYPES.map((type) => fixture.topics.topicFor(type)),
      deadLetterTopic: fixture.topics.dlq,
      sink,
      createTables: true,
      flushIntervalMs: 200,
    });
    await worker.start();
    let tree: TraceTree | null = null;
    try {
      const queries = new TraceQueries(sink);
      const deadline = Date.now() + 120_000;
      for (;;) {
        tree = await queries.getTrace(traceId);
        const researcher = tree === null ? undefined : findNode(tree.roots, "researcher");
        if (
          researcher?.lifecycle === "FAILED" &&
          tree?.roots[0]?.lifecycle === "COMPLETED" &&
          tree.correlations.length > 0
        ) {
          if (tree.summary.spanCount >= 8) break;
        }
        if (Date.now() > deadline) throw new Error(`trace not projected: ${JSON.stringify(tree?.summary)}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    } finally {
      await worker.stop();
      await sink.close();
    }
    const trace = tree as TraceTree;
    expect(trace.roots).to.have.length(1);
    const planner = trace.roots[0] as ExecutionNode;
    expect(planner).to.include({
      agentName: "planner",
      lifecycle: "COMPLETED",
      userId: "user-py",
      threadId: "conv-py",
    });
    expect(planner.children).to.have.length(1);
    const researcher = planner.children[0] as ExecutionNode;
    expect(researcher).to.include({ agentName: "researcher", lifecycle: "FAILED", relationship: "SUBAGENT" });
    const names = (node: ExecutionNode): string[] =>
      node.events.map((e) => `${e["event_kind"]} ${e["name"]}`).sort();
    expect(names(planner)).to.include.members([
      "LLM_CALL_END gpt-4o",
      "LLM_FIRST_TOKEN gpt-4o",
      "TOOL_CALL_END get_weather",
    ]);
    expect(names(researcher)).to.include.members(["LLM_CALL_END gpt-4o-mini", "TOOL_CALL_END fetch_page"]);
    const tokens = planner.metrics.find((m) => m["prompt_tokens"] !== null);
    expect(tokens).to.include({ prompt_tokens: 300, completion_tokens: 40, time_to_first_token_ms: 15 });
    const errors = researcher.errors.map((e) => `${e["error_class"]} ${e["severity"]} ${e["phase"]}`);
    expect(errors).to.include.members([
      "__main__.FetchError ERROR tool_execution",
      "__main__.FetchError FATAL invoke_agent",
    ]);
    // the FastAPI server span is kept with its resource, outside any execution
    const server = trace.unattached.spans.find((s) => s["kind"] === "SERVER");
    expect(server?.["name"]).to.equal("POST /ask");
    expect(server?.["metadata"]).to.include({ "service.name": "python-agent-service" });

    const printed = await runCli([
      "trace",
      traceId,
      "--data-dir",
      dataDir,
      "--database",
      database,
      "--log-level",
      "warn",
    ]);
    expect(printed.code, printed.stderr).to.equal(0);
    const lines = printed.stdout.split("\n");
    expect(lines[0]).to.equal(`trace ${traceId}  ✗ has errors`);
    const plannerLine = lines.findIndex((line) => /● planner .*COMPLETED/.test(line));
    const researcherLine = lines.findIndex((line) => /✗ researcher .*SUBAGENT\s+FAILED/.test(line));
    expect(plannerLine, printed.stdout).to.be.greaterThan(0);
    expect(researcherLine, printed.stdout).to.be.greaterThan(plannerLine);
    expect(printed.stdout).to.match(/event\s+LLM_CALL_END gpt-4o ok/);
    expect(printed.stdout).to.match(/event\s+TOOL_CALL_END fetch_page error/);
    expect(printed.stdout).to.match(/error\s+✗ __main__.FetchError/);
    expect(printed.stdout).to.match(/metrics .*llm \d+(\.\d+)? ms .*ttft 15 ms · tokens 300→40/);
  });
});
