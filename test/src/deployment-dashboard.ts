import { join } from "node:path";
import { expect } from "chai";
import { INFRA, asArray, asRecord, asString, at, readYaml } from "./deployment-files.js";
import { baseMetricName, promQlReferences } from "./deployment-promql.js";
import type { WorkerMetric } from "./deployment-sources.js";

type Obj = Record<string, unknown>;

export const DASHBOARD_FILE = join(INFRA, "grafana", "tracehouse-dashboard.json");
export const PROMETHEUS_RULES_FILE = join(INFRA, "alerts", "tracehouse-alerts.yaml");
export const GRAFANA_RULES_FILE = join(INFRA, "alerts", "grafana-agent-latency.yaml");
export const DATASOURCES_FILE = join(INFRA, "grafana", "provisioning", "datasources", "tracehouse.yaml");
export const PROMETHEUS_CONFIG_FILE = join(INFRA, "grafana", "prometheus.yml");
export const CLICKHOUSE_PLUGIN = "grafana-clickhouse-datasource";

export interface DashboardTarget {
  readonly panel: string;
  readonly datasource: Obj;
  readonly target: Obj;
}

export function dashboardTargets(dashboard: Obj): DashboardTarget[] {
  const targets: DashboardTarget[] = [];
  for (const item of asArray(dashboard["panels"], "panels")) {
    const panel = asRecord(item, "panel");
    if (panel["type"] === "row") continue;
    for (const target of asArray(panel["targets"], `${String(panel["title"])} targets`)) {
      const t = asRecord(target, "target");
      targets.push({
        panel: asString(panel["title"], "title"),
        datasource: asRecord(t["datasource"] ?? panel["datasource"], "datasource"),
        target: t,
      });
    }
  }
  return targets;
}

export function clickHouseTargets(dashboard: Obj): { panel: string; sql: string }[] {
  return dashboardTargets(dashboard)
    .filter((t) => t.datasource["type"] === CLICKHOUSE_PLUGIN)
    .map((t) => ({ panel: t.panel, sql: asString(t.target["rawSql"], `${t.panel} rawSql`) }));
}

export function variable(dashboard: Obj, name: string): Obj {
  const found = asArray(at(dashboard, "templating", "list"), "templating")
    .map((v) => asRecord(v, "variable"))
    .find((v) => v["name"] === name);
  if (found === undefined) throw new Error(`dashboard variable ${name} is missing`);
  return found;
}

export interface PrometheusRule {
  readonly alert: string;
  readonly expr: string;
  readonly rule: Obj;
}

export function prometheusRules(): PrometheusRule[] {
  const groups = asArray(at(readYaml(PROMETHEUS_RULES_FILE), "groups"), "groups");
  return groups.flatMap((group) =>
    asArray(at(group, "rules"), "rules").map((item) => {
      const rule = asRecord(item, "rule");
      return { alert: asString(rule["alert"], "alert"), expr: asString(rule["expr"], "expr"), rule };
    }),
  );
}

export function grafanaRules(): Obj[] {
  const groups = asArray(at(readYaml(GRAFANA_RULES_FILE), "groups"), "groups");
  return groups.flatMap((group) => asArray(at(group, "rules"), "rules").map((r) => asRecord(r, "rule")));
}

export function grafanaRuleSql(rule: Obj): string[] {
  return asArray(rule["data"], "data")
    .map((query) => asRecord(query, "query"))
    .filter((query) => query["datasourceUid"] !== "__expr__")
    .map((query) => asString(at(query, "model", "rawSql"), "rawSql"));
}

/** Every metric and label a PromQL expression uses exists in the worker's registry. */
export function expectWorkerSeries(
  expr: string,
  metrics: ReadonlyMap<string, WorkerMetric>,
  where: string,
  targetLabels: readonly string[] = [],
): string[] {
  const registered = new Set(metrics.keys());
  const { metrics: series, labels } = promQlReferences(expr);
  expect(series, `${where}: no metric in ${expr}`).to.have.length.above(0);
  const bases = series.map((name) => {
    const base = baseMetricName(name, registered);
    expect(base, `${where}: ${name} is not a metric the worker registers`).to.not.equal(null);
    const metric = metrics.get(base!)!;
    if (name !== base) expect(metric.type, `${where}: ${name}`).to.equal("histogram");
    return metric;
  });
  const known = new Set([
    ...targetLabels,
    ...bases.flatMap((m) => [...m.labelNames, ...(m.type === "histogram" ? ["le"] : [])]),
  ]);
  for (const label of labels) expect(known, `${where}: label ${label} in ${expr}`).to.include(label);
  return [...series];
}
