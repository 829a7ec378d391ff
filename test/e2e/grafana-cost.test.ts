import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import {
  CACHED_INPUT_ATTRIBUTE,
  ClickHouseTraceSchema,
  DEFAULT_PRICES,
  TraceQueries,
  createSink,
  mergePrices,
} from "@tracehouse/clickhouse";
import type { PriceTable, Sink } from "@tracehouse/clickhouse";
import { RecordType } from "@tracehouse/schemas";
import { uniqueName, useClickHouse } from "@tracehouse/testkit";
import { expect } from "chai";
import { writePriceTable } from "@tracehouse/clickhouse";
import { RowBatch, envelope, traceId } from "../src/deployment-data.js";
import { expandClickHouseSql } from "../src/deployment-grafana.js";

const DASHBOARD = resolve(fileURLToPath(new URL("../..", import.meta.url)), "infra", "grafana");
const COST_TABLE = "Tokens and cost per agent and model";
const COST_SERIES = "Token cost per agent (USD, at the current price table)";

function panelSql(title: string): string {
  const dashboard = JSON.parse(readFileSync(join(DASHBOARD, "tracehouse-dashboard.json"), "utf8")) as {
    panels: { title: string; targets?: { rawSql?: string }[] }[];
  };
  const sql = dashboard.panels.find((panel) => panel.title === title)?.targets?.[0]?.rawSql;
  if (sql === undefined) throw new Error(`no panel ${title}`);
  return sql;
}

interface CostRow {
  agent: string;
  model: string;
  executions: number;
  "input tokens": number;
  "cached input tokens": number;
  "output tokens": number;
  "cost (USD)": number | null;
}

describe("Grafana dashboard: token cost priced in ClickHouse the way the UI and the CLI price it", function () {
  this.timeout(120_000);
  let sink: Sink;
  const database = uniqueName("gcost").replace(/[^a-z0-9_]/gi, "_");
  const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000;
  const window = { from: new Date(hour), to: new Date(hour + 3_600_000) };
  const context = {
    fromSeconds: hour / 1000,
    toSeconds: hour / 1000 + 3600,
    intervalSeconds: 3600,
    variables: { database, agent: ["planner", "coder"] },
    all: ["agent"],
  };
  const panel = (title: string): Promise<CostRow[]> =>
    sink.query<CostRow>(expandClickHouseSql(panelSql(title), context));

  before(async () => {
    const service = await useClickHouse();
    sink = createSink(
      service.url === undefined
        ? { dataDir: service.dataDir, database }
        : { url: service.url, username: service.username, password: service.password, database },
    );
    await new ClickHouseTraceSchema(sink, { ttlDays: null }).createTables();
    const batch = new RowBatch();
    const us = (ms: number): number => ms * 1000;
    // agent, model(s) of its LLM calls, input, output, cached input
    const executions: [string, string[], number, number, number][] = [
      ["planner", ["gpt-4o-2024-08-06"], 10_000, 2_000, 4_000],
      ["planner", ["gpt-4o"], 5_000, 1_000, 0],
      ["planner", ["claude-sonnet-4-5"], 7_000, 3_000, 1_000],
      ["coder", ["in-house-model"], 3_000, 500, 0],
      ["coder", ["gpt-4o", "gpt-4o-mini"], 2_000, 200, 0],
    ];
    executions.forEach(([agent, models, input, output, cached], i) => {
      const trace = traceId();
      const id = `${agent}-${i}`;
      const t = hour + 60_000 * (i + 1);
      for (const model of models) {
        batch.add(RecordType.Event, {
          ...envelope(agent, us(t), id, trace),
          event_kind: "LLM_CALL_START",
          name: model,
        });
        batch.add(RecordType.Event, {
          ...envelope(agent, us(t + 500), id, trace),
          event_kind: "LLM_CALL_END",
          name: model,
          attributes: cached > 0 ? { [CACHED_INPUT_ATTRIBUTE]: String(cached) } : {},
        });
      }
      const metrics = batch.add(RecordType.Metrics, {
        ...envelope(agent, us(t + 1000), id, trace),
        initialization_ms: 1,
        tool_execution_ms: 1,
        llm_processing_ms: 1,
        websocket_notification_ms: 1,
        total_ms: 4,
        prompt_tokens: input,
        completion_tokens: output,
      });
      if (i === 0) batch.add(RecordType.Metrics, metrics); // delivered twice: counted once
    });
    await batch.insertInto(sink);
  });
  after(async () => {
    await sink?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    await sink?.close();
  });

  /** The panel's rows next to what TraceQueries (the UI's and the CLI's read side) says, with `prices`. */
  async function compare(prices: PriceTable): Promise<CostRow[]> {
    await writePriceTable(sink, prices);
    const rows = await panel(COST_TABLE);
    const stats = await new TraceQueries(sink, { prices }).agentCostStats(window);
    const expected = stats.flatMap((agent) =>
      agent.cost.byModel.map((usage) => ({
        agent: agent.agentName,
        model: usage.model ?? "",
        executions: usage.executions,
        "input tokens": usage.inputTokens,
        "cached input tokens": usage.cachedInputTokens,
        "output tokens": usage.outputTokens,
        "cost (USD)": usage.costUsd,
      })),
    );
    expect(rows.map((row) => ({ ...row, "cost (USD)": null }))).to.deep.equal(
      expected.map((row) => ({ ...row, "cost (USD)": null })),
    );
    rows.forEach((row, i) => {
      const want = expected[i]!["cost (USD)"];
      if (want === null) expect(row["cost (USD)"], `${row.agent} ${row.model}`).to.equal(null);
      else expect(row["cost (USD)"], `${row.agent} ${row.model}`).to.be.closeTo(want, 1e-9);
    });
    return rows;
  }

  it("the per-model table equals TraceQueries' agent cost: tokens, cached input, unknown and mixed models unpriced", async () => {
    const rows = await compare(DEFAULT_PRICES);
    expect(rows.map((row) => [row.agent, row.model, row["cost (USD)"] === null])).to.deep.equal([
      ["coder", "", true],
      ["coder", "in-house-model", true],
      ["planner", "claude-sonnet-4-5", false],
      ["planner", "gpt-4o", false],
      ["planner", "gpt-4o-2024-08-06", false],
    ]);
    // 10,000 input of which 4,000 cached, 2,000 output at gpt-4o's 2.5 / 1.25 / 10 per million
    expect(rows[4]!["cost (USD)"]).to.be.closeTo((6_000 * 2.5 + 4_000 * 1.25 + 2_000 * 10) / 1e6, 1e-12);
  });

  it("a price file written by migrate (a new generation) applies to the past: changed, added and removed prices", async () => {
    const overridden = mergePrices(
      new Map([
        ["gpt-4o", { inputPerMillion: 5, outputPerMillion: 20, cachedInputPerMillion: 5 }],
        ["in-house-model", { inputPerMillion: 1, outputPerMillion: 2, cachedInputPerMillion: 1 }],
        ["claude-sonnet-4-5", null],
      ]),
    );
    const rows = await compare(overridden);
    const cost = (model: string): number | null => rows.find((row) => row.model === model)!["cost (USD)"];
    expect(cost("gpt-4o")).to.be.closeTo((5_000 * 5 + 1_000 * 20) / 1e6, 1e-12);
    expect(cost("in-house-model")).to.be.closeTo((3_000 * 1 + 500 * 2) / 1e6, 1e-12);
    expect(cost("claude-sonnet-4-5")).to.equal(null);
  });

  it("the time series sums the same cost per agent and hour", async () => {
    await writePriceTable(sink, DEFAULT_PRICES);
    const series = await sink.query<{ agent_name: string; cost: number | null }>(
      expandClickHouseSql(panelSql(COST_SERIES), context),
    );
    const stats = await new TraceQueries(sink).agentCostStats(window);
    for (const agent of stats) {
      const row = series.find((entry) => entry.agent_name === agent.agentName);
      if (agent.cost.costUsd === null) expect(row?.cost ?? null).to.equal(null);
      else expect(row?.cost).to.be.closeTo(agent.cost.costUsd, 1e-9);
    }
    expect(series).to.have.length(2);
  });
});
