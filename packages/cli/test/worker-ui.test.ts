import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_PRICES, costOf } from "@tracehouse/clickhouse";
import type { TraceTree } from "@tracehouse/clickhouse";
import { TraceContext } from "@tracehouse/context";
import { RecordType } from "@tracehouse/schemas";
import { uniqueName, useKafka } from "@tracehouse/testkit";
import { expect } from "chai";
import { spawnCli } from "./helpers/cli.js";
import type { CliProcess } from "./helpers/cli.js";
import { setupEnv, waitFor } from "../../worker/test/helpers/env.js";
import type { WorkerTestEnv } from "../../worker/test/helpers/env.js";
import { produceRecords, sampleRecord } from "../../worker/test/helpers/records.js";
import type { TestRecord } from "../../worker/test/helpers/records.js";

type TraceView = TraceTree & { running: boolean };

/** A record of `type` with `changes` over the sample values, timed `offsetMs` after `t0Us`. */
function record(
  type: RecordType,
  context: TraceContext,
  t0Us: number,
  offsetMs: number,
  changes: Record<string, unknown>,
): TestRecord {
  return {
    type,
    context,
    record: { ...sampleRecord(type, context, 0), event_time: t0Us + offsetMs * 1000, ...changes } as never,
  };
}

describe("tracehouse worker --ui-port: the trace explorer served by the worker while it ingests", function () {
  this.timeout(240_000);
  let env: WorkerTestEnv;
  let dataDir: string;
  let worker: CliProcess | null = null;

  before(async () => {
    env = await setupEnv({ partitions: 2 });
    dataDir = mkdtempSync(join(tmpdir(), "tracehouse-worker-ui-"));
  });
  after(async () => {
    if (worker !== null && worker.child.exitCode === null) {
      worker.child.kill("SIGKILL");
      await worker.exited;
    }
    await env?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers the API and the pages from the embedded engine it writes, and shows new records without a restart", async () => {
    const brokers = (await useKafka()).brokers.join(",");
    worker = spawnCli([
      "worker",
      "--brokers",
      brokers,
      "--group-id",
      uniqueName("worker-ui"),
      "--topics",
      env.topicList.join(","),
      "--dead-letter-topic",
      env.dlq,
      "--flush-interval-ms",
      "200",
      "--health-port",
      "off",
      "--ui-port",
      "0",
      "--data-dir",
      dataDir,
      "--database",
      "th_worker_ui",
      "--log-level",
      "info",
    ]);
    const listening = await worker.logLine("trace explorer listening");
    const base = /^(http:\/\/127\.0\.0\.1:\d+)(?:\/traces)?$/.exec(String(listening["url"]))?.[1];
    expect(base, worker.stderr()).to.be.a("string");

    const root = TraceContext.create({ userId: uniqueName("user") });
    const child = root.child();
    const t0 = Date.now() * 1000 - 60_000_000;
    const traceUrl = `${base}/api/traces/${root.traceId}`;
    expect((await fetch(traceUrl)).status, "before any record").to.equal(404);

    // First only the start of the root execution, its LLM call and its sub-agent (still running).
    await produceRecords(env.kafka, env.topics, [
      record(RecordType.Execution, root, t0, 0, {
        execution_id: "exec-root",
        agent_name: "planner",
        lifecycle: "STARTED",
        status: "running",
        parent_execution_id: null,
        result_summary: null,
        error_message: null,
        duration_ms: null,
      }),
      record(RecordType.Event, root, t0, 10, {
        execution_id: "exec-root",
        agent_name: "planner",
        event_kind: "LLM_CALL_START",
        name: "gpt-4o",
        status: null,
        duration_ms: null,
        attributes: {},
      }),
      record(RecordType.Correlation, root, t0, 20, {
        execution_id: "exec-root",
        agent_name: "planner",
        parent_execution_id: "exec-root",
        child_execution_id: "exec-child",
        child_span_id: child.spanId,
        child_agent_name: "researcher",
      }),
      record(RecordType.Execution, child, t0, 30, {
        execution_id: "exec-child",
        agent_name: "researcher",
        lifecycle: "FAILED",
        status: "failed",
        parent_execution_id: "exec-root",
        duration_ms: 400,
        error_message: "search backend down",
      }),
    ]);
    const running = await waitFor(
      async () => {
        const response = await fetch(traceUrl);
        if (response.status !== 200) return null;
        const view = (await response.json()) as TraceView;
        return view.roots[0]?.children.length === 1 ? view : null;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: "the worker's UI to serve the new trace" },
    );
    expect(running.running).to.equal(true);
    expect(running.roots.map((node) => [node.agentName, node.lifecycle])).to.deep.equal([
      ["planner", "STARTED"],
    ]);
    const sub = running.roots[0]!.children[0]!;
    expect([sub.agentName, sub.lifecycle, sub.relationship, sub.errorMessage]).to.deep.equal([
      "researcher",
      "FAILED",
      "SUBAGENT",
      "search backend down",
    ]);

    // Then the root completes with its token counts: the same URL shows it, with the cost of gpt-4o.
    await produceRecords(env.kafka, env.topics, [
      record(RecordType.Metrics, root, t0, 800, {
        execution_id: "exec-root",
        agent_name: "planner",
        prompt_tokens: 12_000,
        completion_tokens: 3_000,
      }),
      record(RecordType.Execution, root, t0, 900, {
        execution_id: "exec-root",
        agent_name: "planner",
        lifecycle: "COMPLETED",
        status: "completed",
        parent_execution_id: null,
        duration_ms: 900,
        error_message: null,
      }),
    ]);
    const done = await waitFor(
      async () => {
        const view = (await (await fetch(traceUrl)).json()) as TraceView;
        return view.running || view.cost.inputTokens === 0 ? null : view;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: "the root's completion and tokens to show" },
    );
    expect(done.roots[0]!.lifecycle).to.equal("COMPLETED");
    const price = DEFAULT_PRICES.get("gpt-4o")!;
    expect(done.cost.costUsd).to.be.closeTo(
      costOf(price, { input: 12_000, output: 3_000, cachedInput: 0 }),
      1e-12,
    );

    const list = (await (
      await fetch(`${base}/api/traces?range=3600000&user=${encodeURIComponent(root.userId!)}`)
    ).json()) as { traces: { traceId: string; status: string; agents: string[] }[] };
    expect(list.traces.map((trace) => [trace.traceId, trace.status, trace.agents])).to.deep.equal([
      [root.traceId, "failed", ["planner", "researcher"]],
    ]);

    const page = await fetch(`${base}/trace/${root.traceId}`);
    expect(page.status).to.equal(200);
    expect(page.headers.get("content-type")).to.match(/^text\/html/);
    expect(page.headers.get("content-security-policy")).to.include("script-src 'self'");
    const script = /<script[^>]+src="([^"]+)"/.exec(await page.text())?.[1];
    expect(script).to.match(/^\/assets\/.+\.js$/);
    expect((await fetch(`${base}${script}`)).status).to.equal(200);

    worker.child.kill("SIGTERM");
    const exit = await worker.exited;
    expect(exit.code, exit.stderr).to.equal(0);
    expect(exit.stderr).to.include("flushed and committed; leaving the group");
    let refused = false;
    await fetch(traceUrl).catch(() => (refused = true));
    expect(refused, "the UI stops with the worker").to.equal(true);
  });
});
