import { expect } from "chai";
import { ClickHouseTraceSchema, costOf, DEFAULT_PRICES, mergePrices, TraceQueries } from "../src/index.js";
import type { Row, Sink } from "../src/index.js";
import { embeddedTarget, uniqueDatabase } from "./support/engine.js";
import { executionRow, HOUR, llmEventRow, SECOND, T0, tokenMetricsRow } from "./support/fixture.js";
import { insertRows } from "./support/insert.js";
import { emptyRows, envelope } from "./support/records.js";

const TRACE_PRICED = "e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5";
const TRACE_UNKNOWN = "f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6";
const TRACE_RUNNING = "a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7";
const TRACE_CLOCK = "b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8";

function llmEvents(base: Record<string, unknown>, at: number, model: string, cached?: number): Row[] {
  return [
    llmEventRow(base, at, "LLM_CALL_START", model),
    llmEventRow(base, at + 1000, "LLM_CALL_END", model, cached === undefined ? undefined : String(cached)),
  ];
}

describe("usage and cost queries (embedded engine)", () => {
  let sink: Sink;
  let db: string;
  const prices = mergePrices(
    new Map([["house-model", { inputPerMillion: 1, outputPerMillion: 2, cachedInputPerMillion: 0.25 }]]),
  );

  before(async () => {
    db = uniqueDatabase("usage");
    sink = embeddedTarget.makeSink(db);
    await new ClickHouseTraceSchema(sink).createTables();
    const rows = emptyRows();
    const root = {
      trace_id: TRACE_PRICED,
      execution_id: "exec-root",
      agent_name: "planner",
      user_id: "u-priced",
      thread_id: "th-1",
    };
    const sub = { ...root, execution_id: "exec-sub", agent_name: "writer" };
    rows.agent_executions.push(
      executionRow(envelope({ ...root, event_time: T0 }), "STARTED", {
        input_summary: "find the Needle please",
      }),
      executionRow(envelope({ ...root, event_time: T0 + 3 * SECOND }), "COMPLETED", { duration_ms: 3000 }),
      executionRow(envelope({ ...sub, event_time: T0 + SECOND }), "STARTED", {
        parent_execution_id: "exec-root",
      }),
      executionRow(envelope({ ...sub, event_time: T0 + 2 * SECOND }), "FAILED", {
        parent_execution_id: "exec-root",
        duration_ms: 1000,
        error_message: "boom",
      }),
    );
    rows.agent_events.push(
      ...llmEvents(root, T0 + 100, "gpt-4o-2024-08-06", 400),
      ...llmEvents(sub, T0 + SECOND + 100, "house-model"),
    );
    // two metrics records for the root (tokens added after the first): both count
    rows.performance_metrics.push(
      tokenMetricsRow(root, T0 + 2 * SECOND, 1000, 200, 3),
      tokenMetricsRow(root, T0 + 3 * SECOND, 500, 0, 3),
      tokenMetricsRow(sub, T0 + 2 * SECOND, 300, 100, 3),
    );
    const unknown = {
      trace_id: TRACE_UNKNOWN,
      execution_id: "exec-u",
      agent_name: "planner",
      user_id: "u-unknown",
    };
    const mixed = { ...unknown, execution_id: "exec-mixed", agent_name: "mixer" };
    rows.agent_executions.push(
      executionRow(envelope({ ...unknown, event_time: T0 + 10 * SECOND }), "STARTED"),
      executionRow(envelope({ ...unknown, event_time: T0 + 11 * SECOND }), "COMPLETED", {
        duration_ms: 1000,
      }),
      executionRow(envelope({ ...mixed, event_time: T0 + 10 * SECOND }), "STARTED"),
      executionRow(envelope({ ...mixed, event_time: T0 + 11 * SECOND }), "COMPLETED", { duration_ms: 1000 }),
    );
    rows.agent_events.push(
      ...llmEvents(unknown, T0 + 10 * SECOND + 10, "secret-model"),
      ...llmEvents(mixed, T0 + 10 * SECOND + 10, "gpt-4o"),
      ...llmEvents(mixed, T0 + 10 * SECOND + 20, "gpt-4o-mini"),
    );
    rows.performance_metrics.push(
      tokenMetricsRow(unknown, T0 + 11 * SECOND, 700, 70, 3),
      tokenMetricsRow(mixed, T0 + 11 * SECOND, 10, 1, 3),
    );
    const running = {
      trace_id: TRACE_RUNNING,
      execution_id: "exec-r",
      agent_name: "planner",
      user_id: "u-running",
    };
    rows.agent_executions.push(
      executionRow(envelope({ ...running, event_time: T0 + 20 * SECOND }), "STARTED"),
    );
    // agent "clock", five hours on: metrics records on either side of a window cut inside hours
    const clock = { trace_id: TRACE_CLOCK, execution_id: "exec-clock", agent_name: "clock" };
    const early = { ...clock, execution_id: "exec-early" };
    rows.agent_events.push(
      ...llmEvents(clock, T0 + 5 * HOUR + 15 * MINUTE, "house-model", 50),
      ...llmEvents(early, T0 + 5 * HOUR + MINUTE, "house-model"),
    );
    rows.performance_metrics.push(
      tokenMetricsRow(early, T0 + 5 * HOUR + 5 * MINUTE, 7, 1),
      tokenMetricsRow(clock, T0 + 5 * HOUR + 20 * MINUTE, 200, 20),
      tokenMetricsRow(clock, T0 + 6 * HOUR + SECOND, 30, 3),
    );
    await insertRows(sink, rows);
    // the same metrics record delivered twice is counted once
    await sink.insert("performance_metrics", [rows.performance_metrics[0]!]);
  });

  after(async () => {
    await sink.command(`DROP DATABASE IF EXISTS ${db}`);
    await sink.close();
  });

  const MINUTE = 60 * SECOND;
  const range = { from: new Date(T0 / 1000 - 60_000), to: new Date(T0 / 1000 + 3_600_000) };

  it("costs each execution at its model's price, per execution and per trace", async () => {
    const tree = await new TraceQueries(sink, { prices }).getTrace(TRACE_PRICED);
    const gpt4o = DEFAULT_PRICES.get("gpt-4o")!;
    const rootCost = costOf(gpt4o, { input: 1500, output: 200, cachedInput: 400 });
    const subCost = (300 * 1 + 100 * 2) / 1e6;
    const root = tree!.roots[0]!;
    expect(root.cost.inputTokens).to.equal(1500);
    expect(root.cost.cachedInputTokens).to.equal(400);
    expect(root.cost.costUsd).to.be.closeTo(rootCost, 1e-12);
    expect(root.children[0]!.cost.costUsd).to.be.closeTo(subCost, 1e-12);
    expect(tree!.cost.costUsd).to.be.closeTo(rootCost + subCost, 1e-12);
    expect(tree!.cost.unpricedTokens).to.equal(0);
    expect(tree!.cost.byModel.map((usage) => usage.model).sort()).to.deep.equal([
      "gpt-4o-2024-08-06",
      "house-model",
    ]);
  });

  it("shows tokens without cost for an unknown model and for executions that mixed models", async () => {
    const tree = await new TraceQueries(sink, { prices }).getTrace(TRACE_UNKNOWN);
    expect(tree!.cost.inputTokens).to.equal(710);
    expect(tree!.cost.costUsd).to.equal(null);
    expect(tree!.cost.unpricedTokens).to.equal(781);
  });

  it("a price change applies to the past", async () => {
    const cheaper = mergePrices(
      new Map([["house-model", { inputPerMillion: 0, outputPerMillion: 0, cachedInputPerMillion: 0 }]]),
    );
    const tree = await new TraceQueries(sink, { prices: cheaper }).getTrace(TRACE_PRICED);
    expect(tree!.roots[0]!.children[0]!.cost.costUsd).to.equal(0);
  });

  it("lists traces with agents, LLM calls, tokens, cost and status", async () => {
    const page = await new TraceQueries(sink, { prices }).listTraces(range);
    expect(page.traces.map((trace) => trace.traceId)).to.deep.equal([
      TRACE_RUNNING,
      TRACE_UNKNOWN,
      TRACE_PRICED,
    ]);
    const priced = page.traces[2]!;
    expect(priced.agents).to.deep.equal(["planner", "writer"]);
    expect(priced.llmCalls).to.equal(2);
    expect(priced.models).to.deep.equal(["gpt-4o-2024-08-06", "house-model"]);
    expect(priced.status).to.equal("failed");
    expect(priced.cost.inputTokens).to.equal(1800);
    expect(priced.cost.costUsd).to.be.greaterThan(0);
    expect(page.traces[0]!.status).to.equal("running");
    expect(page.traces[1]!.status).to.equal("completed");
    expect(page.traces[1]!.cost.costUsd).to.equal(null);
  });

  it("filters the list by user, agent, thread, model, text, status, errors and duration; pages it", async () => {
    const q = new TraceQueries(sink, { prices });
    const ids = async (filter: Record<string, unknown>): Promise<string[]> =>
      (await q.listTraces({ ...range, ...filter })).traces.map((trace) => trace.traceId);
    expect(await ids({ userId: "u-priced" })).to.deep.equal([TRACE_PRICED]);
    expect(await ids({ agent: "mixer" })).to.deep.equal([TRACE_UNKNOWN]);
    expect(await ids({ threadId: "th-1" })).to.deep.equal([TRACE_PRICED]);
    expect(await ids({ model: "secret-model" })).to.deep.equal([TRACE_UNKNOWN]);
    expect(await ids({ text: "needle" })).to.deep.equal([TRACE_PRICED]);
    expect(await ids({ status: "running" })).to.deep.equal([TRACE_RUNNING]);
    expect(await ids({ status: "completed" })).to.deep.equal([TRACE_UNKNOWN]);
    expect(await ids({ hasError: true })).to.deep.equal([TRACE_PRICED]);
    expect(await ids({ minDurationMs: 2500 })).to.deep.equal([TRACE_PRICED]);
    expect(await ids({ sort: "duration" })).to.deep.equal([TRACE_PRICED, TRACE_UNKNOWN, TRACE_RUNNING]);
    const first = await q.listTraces({ ...range, limit: 2 });
    expect(first.hasMore).to.equal(true);
    const second = await q.listTraces({ ...range, limit: 2, offset: 2 });
    expect(second.traces.map((trace) => trace.traceId)).to.deep.equal([TRACE_PRICED]);
    expect(second.hasMore).to.equal(false);
  });

  it("gives agents their tokens and cost, overall and per hour", async () => {
    const q = new TraceQueries(sink, { prices });
    const agents = await q.agentCostStats(range);
    const writer = agents.find((row) => row.agentName === "writer")!;
    expect(writer.cost.costUsd).to.be.closeTo((300 + 200) / 1e6, 1e-12);
    const hourly = await q.agentHourlyCostStats(range);
    const writerHour = hourly.find((row) => row.agentName === "writer")!;
    expect(writerHour.cost.costUsd).to.be.closeTo((300 + 200) / 1e6, 1e-12);
  });

  it("counts a window's tokens where its metrics records fall, in the window and in its whole hours", async () => {
    const q = new TraceQueries(sink, { prices });
    const window = {
      from: new Date((T0 + 5 * HOUR + 10 * MINUTE) / 1000),
      to: new Date((T0 + 6 * HOUR + SECOND) / 1000),
    };
    const { agents, hourly } = await q.agentCostOverview({ ...window, agent: "clock" });
    // in the window: the record at 5:20 only (5:05 is before it, 6:00:01 is its end)
    const cost = agents[0]!.cost;
    expect([cost.inputTokens, cost.outputTokens, cost.cachedInputTokens]).to.deep.equal([200, 20, 50]);
    expect(cost.costUsd).to.be.closeTo(((200 - 50) * 1 + 50 * 0.25 + 20 * 2) / 1e6, 1e-12);
    expect(cost.byModel.map((usage) => usage.executions)).to.deep.equal([1]);
    // per hour: the whole hour from 5:00 holds both executions' records; 6:00 holds none before the end
    const byHour = hourly.map((row) => [
      (row.hour.getTime() * 1000 - T0) / HOUR,
      row.cost.inputTokens,
      row.cost.outputTokens,
    ]);
    expect(byHour).to.deep.equal([
      [5, 207, 21],
      [6, 0, 0],
    ]);
    expect(hourly[0]!.cost.costUsd).to.be.closeTo(
      ((200 - 50) * 1 + 50 * 0.25 + 20 * 2 + 7 * 1 + 1 * 2) / 1e6,
      1e-12,
    );
  });
});
