import { DEFAULT_DATABASE } from "@tracehouse/clickhouse";
import type { Sink } from "@tracehouse/clickhouse";
import { RecordType } from "@tracehouse/schemas";
import type { RecordInputOf } from "@tracehouse/schemas";
import { uniqueName } from "@tracehouse/testkit";
import { expect } from "chai";
import { RowBatch, envelope, testSink, traceId } from "../src/deployment-data.js";
import {
  CLICKHOUSE_PLUGIN,
  DASHBOARD_FILE,
  clickHouseTargets,
  dashboardTargets,
  expectWorkerSeries,
  grafanaRuleSql,
  grafanaRules,
  variable,
} from "../src/deployment-dashboard.js";
import { asArray, asRecord, asString, at, readJson } from "../src/deployment-files.js";
import { expandClickHouseSql, referencedTables } from "../src/deployment-grafana.js";
import type { MacroContext } from "../src/deployment-grafana.js";
import { migrationObjects, requireBuiltCli, workerMetrics } from "../src/deployment-sources.js";
import type { SchemaObjectKind, WorkerMetric } from "../src/deployment-sources.js";

type Obj = Record<string, unknown>;

describe("deployment artifacts (infra/)", function () {
  let metrics: Map<string, WorkerMetric>;
  let schemaObjects: Map<string, SchemaObjectKind>;

  before(async function () {
    requireBuiltCli();
    metrics = await workerMetrics();
    schemaObjects = migrationObjects();
  });

  describe("Grafana dashboard", function () {
    let dashboard: Obj;
    before(function () {
      dashboard = asRecord(readJson(DASHBOARD_FILE), "dashboard");
    });

    it("has data source, database and agent variables, and every panel uses one of the two data sources", function () {
      expect(variable(dashboard, "datasource")).to.include({ type: "datasource", query: CLICKHOUSE_PLUGIN });
      expect(variable(dashboard, "prometheus")).to.include({ type: "datasource", query: "prometheus" });
      expect(variable(dashboard, "database")["query"]).to.equal(DEFAULT_DATABASE);
      expect(variable(dashboard, "agent")).to.include({ type: "query", multi: true, includeAll: true });
      const ids = new Set<unknown>();
      for (const item of asArray(dashboard["panels"], "panels")) {
        const panel = asRecord(item, "panel");
        expect(ids.has(panel["id"]), `duplicate panel id ${String(panel["id"])}`).to.equal(false);
        ids.add(panel["id"]);
        const grid = asRecord(panel["gridPos"], "gridPos");
        expect(Number(grid["x"]) + Number(grid["w"])).to.be.at.most(24);
      }
      const targets = dashboardTargets(dashboard);
      for (const { panel, datasource, target } of targets) {
        const expected = datasource["type"] === CLICKHOUSE_PLUGIN ? "${datasource}" : "${prometheus}";
        expect(datasource["uid"], panel).to.equal(expected);
        if (datasource["type"] === CLICKHOUSE_PLUGIN) expect(target["editorType"], panel).to.equal("sql");
        else expect(datasource["type"], panel).to.equal("prometheus");
      }
      const titles = targets.map((t) => t.panel.toLowerCase()).join("\n");
      for (const topic of [
        "executions",
        "latency",
        "failure rate",
        "time to first token",
        "consumer lag",
        "errors",
      ]) {
        expect(titles).to.include(topic);
      }
    });

    it("every SQL names only tables and views the migrations create", function () {
      const sqls = [
        ...clickHouseTargets(dashboard).map((t) => ({ where: t.panel, sql: t.sql })),
        {
          where: "agent variable",
          sql: asString(at(variable(dashboard, "agent"), "query", "rawSql"), "rawSql"),
        },
        ...grafanaRules().flatMap((rule) =>
          grafanaRuleSql(rule).map((sql) => ({ where: String(rule["title"]), sql })),
        ),
      ];
      expect(sqls.length).to.be.at.least(8);
      for (const { where, sql } of sqls) {
        const tables = referencedTables(sql);
        expect(tables, where).to.have.length.above(0);
        for (const table of tables) expect([...schemaObjects.keys()], `${where}: ${table}`).to.include(table);
        for (const table of tables)
          expect(schemaObjects.get(table), `${where} reads ${table}`).to.not.equal("materialized view");
      }
    });

    it("every Prometheus panel queries metrics and labels the worker registers", function () {
      const prom = dashboardTargets(dashboard).filter((t) => t.datasource["type"] === "prometheus");
      expect(prom).to.have.length.above(0);
      const used = prom.flatMap((t) =>
        expectWorkerSeries(asString(t.target["expr"], "expr"), metrics, t.panel),
      );
      expect(used).to.include([...metrics.keys()].find((name) => name.endsWith("_consumer_lag")));
    });

    describe("panel SQL on the real engine", function () {
      let sink: Sink;
      const database = uniqueName("dash").replace(/[^a-z0-9_]/gi, "_");
      const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000;
      const micros = (ms: number): number => ms * 1000;
      const context = (agents: readonly string[] | "all"): MacroContext => ({
        fromSeconds: Math.floor(hour / 1000) - 3600,
        toSeconds: Math.floor(Date.now() / 1000),
        intervalSeconds: 3600,
        variables: { database, agent: agents === "all" ? ["planner", "coder"] : agents },
        all: agents === "all" ? ["agent"] : [],
      });
      const run = async (panel: string, agents: readonly string[] | "all" = "all"): Promise<Obj[]> => {
        const target = clickHouseTargets(dashboard).find((t) => t.panel === panel);
        if (target === undefined) throw new Error(`no panel ${panel}`);
        return sink.query(expandClickHouseSql(target.sql, context(agents)));
      };
      const raw = async <T = Obj>(sql: string): Promise<T[]> =>
        sink.query<T>(sql.replaceAll("{db}", database));

      before(async function () {
        sink = await testSink(database);
        const batch = new RowBatch();
        const durations = [100, 200, 400, 800];
        // Redelivered later (as after a worker crash before its commit): the low latencies, a start, the
        // failure and one metrics record twice, so that counting or quantiles over duplicates would show.
        const redelivered: RecordInputOf<"execution">[] = [];
        const redeliveredMetrics: RecordInputOf<"metrics">[] = [];
        durations.forEach((durationMs, i) => {
          const id = `planner-${i}`;
          const trace = traceId();
          const start = hour + 60_000 * (i + 1);
          const failed = i === durations.length - 1;
          const started = batch.add(RecordType.Execution, {
            ...envelope("planner", micros(start), id, trace),
            lifecycle: "STARTED",
            status: "running",
          });
          if (i === 0) redelivered.push(started);
          batch.add(RecordType.Execution, {
            ...envelope("planner", micros(start + 10), id, trace),
            lifecycle: "UPDATED",
            status: "waiting_for_tool",
          });
          const end = batch.add(RecordType.Execution, {
            ...envelope("planner", micros(start + durationMs), id, trace),
            lifecycle: failed ? "FAILED" : "COMPLETED",
            status: failed ? "failed" : "completed",
            duration_ms: durationMs,
            error_message: failed ? "tool exploded" : null,
          });
          if (i <= 1 || failed) redelivered.push(end);
          if (!failed) {
            const metricsRecord = batch.add(RecordType.Metrics, {
              ...envelope("planner", micros(start + durationMs), id, trace),
              initialization_ms: 5,
              tool_execution_ms: 20,
              llm_processing_ms: 50,
              websocket_notification_ms: 1,
              total_ms: durationMs,
              time_to_first_token_ms: 10 * (i + 1),
              // tokens for the cost panels (no LLM call names a model: tokens without a price)
              prompt_tokens: 100,
              completion_tokens: 10,
            });
            if (i === 0) redeliveredMetrics.push(metricsRecord, metricsRecord);
          }
        });
        for (const [i, durationMs] of [50, 70].entries()) {
          const id = `coder-${i}`;
          const start = hour + 120_000 * (i + 1);
          batch.add(RecordType.Execution, {
            ...envelope("coder", micros(start), id),
            lifecycle: "STARTED",
            status: "running",
          });
          batch.add(RecordType.Execution, {
            ...envelope("coder", micros(start + durationMs), id),
            lifecycle: "COMPLETED",
            status: "completed",
            duration_ms: durationMs,
          });
        }
        const errorTrace = traceId();
        batch.add(RecordType.Error, {
          ...envelope("planner", micros(hour + 1000), "planner-3", errorTrace),
          error_class: "ToolTimeout",
          message: "first timeout",
          retriable: true,
          severity: "ERROR",
        });
        const lastError = batch.add(RecordType.Error, {
          ...envelope("planner", micros(hour + 2000), "planner-3", errorTrace),
          error_class: "ToolTimeout",
          message: "second timeout",
          retriable: false,
          severity: "ERROR",
        });
        batch.add(RecordType.Error, {
          ...envelope("coder", micros(hour + 3000), "coder-0"),
          error_class: "RateLimited",
          message: "slow down",
          retriable: true,
          severity: "WARNING",
        });
        await batch.insertInto(sink);
        // The same records again (a redelivery), in a block of their own with one new row so that
        // the insert is not dropped as a duplicate block: the dashboard must count them once.
        for (const record of redelivered) batch.add(RecordType.Execution, record);
        for (const record of redeliveredMetrics) batch.add(RecordType.Metrics, record);
        batch.add(RecordType.Error, lastError);
        batch.add(RecordType.Execution, {
          ...envelope("coder", micros(hour + 500_000), "coder-9"),
          lifecycle: "UPDATED",
          status: "idle",
        });
        batch.add(RecordType.Error, {
          ...envelope("coder", micros(hour + 4000), "coder-0"),
          error_class: "RateLimited",
          message: "slow down again",
          retriable: true,
          severity: "WARNING",
        });
        await batch.insertInto(sink);
        const [stored] = await raw<{ n: number }>(
          "SELECT uniqExact(event_id) AS n FROM {db}.agent_executions",
        );
        expect(Number(stored?.n)).to.equal(4 * 3 + 2 * 2 + 1);
      });

      after(async function () {
        await sink?.command(`DROP DATABASE IF EXISTS ${database}`);
        await sink?.close();
      });

      it("every ClickHouse query of the dashboard runs, for all agents and for one", async function () {
        for (const { panel } of clickHouseTargets(dashboard)) {
          const all = await run(panel);
          expect(all, panel).to.have.length.above(0);
          const one = await run(panel, ["coder"]);
          for (const row of one) {
            const agent = row["agent_name"] ?? row["agent"];
            if (agent !== undefined) expect(agent, panel).to.equal("coder");
          }
        }
        const agentSql = asString(at(variable(dashboard, "agent"), "query", "rawSql"), "rawSql");
        const agents = await sink.query<{ agent_name: string }>(
          expandClickHouseSql(agentSql, context("all")),
        );
        expect(agents.map((a) => a.agent_name)).to.deep.equal(["coder", "planner"]);
      });

      it("counts executions and failures once per execution, redeliveries included", async function () {
        const perAgent = (rows: Obj[], column: string): Record<string, number> => {
          const sums: Record<string, number> = {};
          for (const row of rows) {
            const agent = String(row["agent_name"]);
            sums[agent] = (sums[agent] ?? 0) + Number(row[column]);
          }
          return sums;
        };
        expect(perAgent(await run("Executions started per agent"), "executions")).to.deep.equal({
          planner: 4,
          coder: 2,
        });
        expect(perAgent(await run("Failure rate per agent (hourly)"), "failure_rate")).to.deep.equal({
          planner: 0.25,
          coder: 0,
        });
        const table = await run("Agents over the selected range");
        const planner = table.find((row) => row["agent"] === "planner");
        expect(planner).to.include({ started: 4, finished: 4, failed: 1, "failure rate": 0.25 });
        const [failed] = await run("Recent failed executions");
        expect(await run("Recent failed executions")).to.have.length(1);
        expect(failed).to.include({
          agent: "planner",
          execution_id: "planner-3",
          error_message: "tool exploded",
        });
      });

      it("latency and time-to-first-token quantiles equal the exact quantiles of the deduplicated records", async function () {
        const [truth] = await raw<{ latency: number[]; ttft: number[] }>(`
          SELECT
            (SELECT quantilesExact(0.5, 0.95, 0.99)(duration_ms) FROM {db}.agent_executions FINAL
             WHERE agent_name = 'planner' AND lifecycle IN ('COMPLETED', 'FAILED')) AS latency,
            (SELECT quantilesExact(0.5, 0.95, 0.99)(time_to_first_token_ms) FROM {db}.performance_metrics FINAL
             WHERE agent_name = 'planner') AS ttft`);
        const latency = (await run("Execution latency p50 / p95 / p99 per agent (hourly)")).find(
          (row) => row["agent_name"] === "planner",
        );
        expect([latency?.["p50"], latency?.["p95"], latency?.["p99"]]).to.deep.equal(truth!.latency);
        const ttft = (await run("Time to first token p50 / p95 / p99 per agent (hourly)")).find(
          (row) => row["agent_name"] === "planner",
        );
        expect([ttft?.["p50"], ttft?.["p95"], ttft?.["p99"]]).to.deep.equal(truth!.ttft);
        const coderTtft = (await run("Time to first token p50 / p95 / p99 per agent (hourly)")).find(
          (row) => row["agent_name"] === "coder",
        );
        expect(coderTtft, "an agent without metrics has no time-to-first-token line").to.equal(undefined);
        const coderRow = (await run("Agents over the selected range")).find(
          (row) => row["agent"] === "coder",
        );
        expect(coderRow?.["ttft p50"], "no time to first token without metrics").to.equal(null);
        const table = (await run("Agents over the selected range")).find((row) => row["agent"] === "planner");
        expect([table?.["latency p50"], table?.["latency p95"], table?.["latency p99"]]).to.deep.equal(
          truth!.latency,
        );
        const [phases] = await run("Time per phase (hourly, summed over executions)");
        expect(phases?.["initialization"]).to.equal(15);
        expect(phases?.["llm_processing"]).to.equal(150);
      });

      it("counts error records once by severity and class, with the latest message", async function () {
        const bySeverity = Object.fromEntries(
          (await run("Errors logged per hour by severity")).map((row) => [
            row["severity"],
            Number(row["errors"]),
          ]),
        );
        expect(bySeverity).to.deep.equal({ ERROR: 2, WARNING: 2 });
        const classes = await run("Top error classes");
        expect(classes.find((row) => row["error_class"] === "ToolTimeout")).to.include({
          agent: "planner",
          errors: 2,
          retriable: 1,
          "latest message": "second timeout",
        });
      });
    });
  });
});
