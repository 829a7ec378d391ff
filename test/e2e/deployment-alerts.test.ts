import { DEFAULT_DATABASE } from "@tracehouse/clickhouse";
import { RecordType } from "@tracehouse/schemas";
import { uniqueName } from "@tracehouse/testkit";
import { expect } from "chai";
import { RowBatch, envelope, testSink } from "../src/deployment-data.js";
import {
  GRAFANA_RULES_FILE,
  expectWorkerSeries,
  grafanaRuleSql,
  grafanaRules,
  prometheusRules,
} from "../src/deployment-dashboard.js";
import { asArray, asRecord, asString, at, readYaml } from "../src/deployment-files.js";
import { promQlReferences } from "../src/deployment-promql.js";
import { requireBuiltCli, workerMetrics } from "../src/deployment-sources.js";
import type { WorkerMetric } from "../src/deployment-sources.js";

describe("deployment artifacts (infra/)", function () {
  let metrics: Map<string, WorkerMetric>;

  before(async function () {
    requireBuiltCli();
    metrics = await workerMetrics();
  });

  describe("alert rules", function () {
    it("the Prometheus rules have the rule shape and use only metrics and labels the worker registers", function () {
      const rules = prometheusRules();
      const names = rules.map((r) => r.alert);
      expect(new Set(names).size).to.equal(names.length);
      const used = new Set<string>();
      for (const { alert, expr, rule } of rules) {
        expect(alert).to.match(/^Tracehouse[A-Za-z]+$/);
        if (rule["for"] !== undefined) expect(rule["for"], alert).to.match(/^\d+[smh]$/);
        expect(["warning", "critical"], alert).to.include(at(rule, "labels", "severity"));
        const summary = asString(at(rule, "annotations", "summary"), `${alert} summary`);
        for (const series of expectWorkerSeries(expr, metrics, alert)) used.add(series);
        const { labels } = promQlReferences(expr);
        for (const match of JSON.stringify(rule["annotations"]).matchAll(/\$labels\.(\w+)/g)) {
          expect(labels, `${alert}: ${summary} uses $labels.${match[1]}`).to.include(match[1]);
        }
      }
      const lag = [...metrics.keys()].find((name) => name.endsWith("_consumer_lag"))!;
      const deadLetters = [...metrics.keys()].find((name) => name.endsWith("_dead_letters_total"))!;
      const insertLatency = [...metrics.values()].find(
        (m) => m.type === "histogram" && m.name.includes("insert"),
      )!;
      expect([...used]).to.include.members([lag, deadLetters, `${insertLatency.name}_bucket`]);
    });

    it("the Grafana rule has the provisioning shape and its condition is one of its queries", function () {
      const file = asRecord(readYaml(GRAFANA_RULES_FILE), "rules file");
      expect(file["apiVersion"]).to.equal(1);
      const rules = grafanaRules();
      expect(rules).to.have.length.above(0);
      for (const rule of rules) {
        const refIds = asArray(rule["data"], "data").map((q) => asString(at(q, "refId"), "refId"));
        expect(new Set(refIds).size).to.equal(refIds.length);
        expect(refIds).to.include(rule["condition"]);
        expect(rule["uid"]).to.be.a("string");
        for (const query of asArray(rule["data"], "data")) {
          if (at(query, "datasourceUid") === "__expr__") {
            const expression = asString(at(query, "model", "expression"), "expression");
            expect(refIds).to.include(expression.replace(/^\$/, ""));
          }
        }
        for (const sql of grafanaRuleSql(rule)) expect(sql).to.include(`${DEFAULT_DATABASE}.`);
      }
    });

    it("the Grafana rule's SQL flags an agent whose p95 latency rose and spares a steady one", async function () {
      const database = uniqueName("alert").replace(/[^a-z0-9_]/gi, "_");
      const sink = await testSink(database);
      try {
        const batch = new RowBatch();
        const now = Date.now();
        const executions = (agent: string, count: number, atMs: number, durationMs: number): void => {
          for (let i = 0; i < count; i++) {
            batch.add(RecordType.Execution, {
              ...envelope(agent, (atMs + i) * 1000, `${agent}-${atMs}-${i}`),
              lifecycle: "COMPLETED",
              status: "completed",
              duration_ms: durationMs,
            });
          }
        };
        executions("slowpoke", 30, now - 6 * 3_600_000, 100);
        executions("slowpoke", 25, now - 60_000, 400);
        executions("steady", 30, now - 6 * 3_600_000, 100);
        executions("steady", 25, now - 60_000, 100);
        executions("quiet", 30, now - 6 * 3_600_000, 100);
        executions("quiet", 5, now - 60_000, 900);
        await batch.insertInto(sink);
        for (const rule of grafanaRules()) {
          for (const sql of grafanaRuleSql(rule)) {
            const rows = await sink.query<{ agent_name: string; p95_ratio: number }>(
              sql.replaceAll(`${DEFAULT_DATABASE}.`, `${database}.`),
            );
            const ratio = Object.fromEntries(rows.map((r) => [r.agent_name, r.p95_ratio]));
            expect(ratio).to.deep.equal({ slowpoke: 4, steady: 1 });
            const threshold = asArray(rule["data"], "data")
              .map((q) => asRecord(at(q, "model"), "model"))
              .find((m) => m["type"] === "threshold");
            const limit = Number(at(threshold, "conditions", 0, "evaluator", "params", 0));
            expect(ratio["slowpoke"]).to.be.above(limit);
            expect(ratio["steady"]).to.be.at.most(limit);
          }
        }
      } finally {
        await sink.command(`DROP DATABASE IF EXISTS ${database}`);
        await sink.close();
      }
    });
  });
});
