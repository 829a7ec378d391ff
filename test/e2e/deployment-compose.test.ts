import { basename, dirname, join, relative, resolve } from "node:path";
import { DEFAULT_DATABASE } from "@tracehouse/clickhouse";
import { expect } from "chai";
import {
  COMPOSE_FILE,
  composeDefault,
  composeDurationSeconds,
  composeEnv,
} from "../src/deployment-compose.js";
import {
  CLICKHOUSE_PLUGIN,
  DASHBOARD_FILE,
  DATASOURCES_FILE,
  GRAFANA_RULES_FILE,
  PROMETHEUS_CONFIG_FILE,
  PROMETHEUS_RULES_FILE,
  grafanaRules,
} from "../src/deployment-dashboard.js";
import {
  INFRA,
  asArray,
  asRecord,
  asString,
  at,
  fileExists,
  localKafkaVersion,
  readYaml,
} from "../src/deployment-files.js";
import { TOPICS_SCRIPT } from "../src/deployment-k8s.js";
import { cliCommand, effective, requireBuiltCli } from "../src/deployment-sources.js";
import type { CliCommand } from "../src/deployment-sources.js";

type Obj = Record<string, unknown>;

describe("deployment artifacts (infra/)", function () {
  let workerCommand: CliCommand;
  let migrateCommand: CliCommand;
  let compose: Obj;
  let services: Obj;

  before(function () {
    requireBuiltCli();
    workerCommand = cliCommand("worker");
    migrateCommand = cliCommand("migrate");
    compose = asRecord(readYaml(COMPOSE_FILE), "compose");
    services = asRecord(compose["services"], "services");
  });

  describe("docker compose", function () {
    it("every service has an image or a build that exists, and depends only on services that exist", function () {
      const names = Object.keys(services);
      expect(names).to.include.members(["kafka", "clickhouse", "topics", "migrate", "worker", "grafana"]);
      for (const [name, value] of Object.entries(services)) {
        const service = asRecord(value, name);
        expect(service["image"] ?? service["build"], `${name} has no image or build`).to.not.equal(undefined);
        if (service["build"] !== undefined) {
          const context = resolve(INFRA, asString(at(service, "build", "context"), "context"));
          expect(
            fileExists(join(context, asString(at(service, "build", "dockerfile"), "dockerfile"))),
          ).to.equal(true);
        }
        const dependsOn = service["depends_on"] ?? [];
        const entries: [string, unknown][] = Array.isArray(dependsOn)
          ? dependsOn.map((d) => [asString(d, "depends_on"), { condition: "service_started" }])
          : Object.entries(asRecord(dependsOn, "depends_on"));
        for (const [dependency, spec] of entries) {
          expect(names, `${name} depends on ${dependency}`).to.include(dependency);
          const condition = at(spec, "condition");
          expect(["service_started", "service_healthy", "service_completed_successfully"]).to.include(
            condition,
          );
          const target = asRecord(services[dependency], dependency);
          if (condition === "service_healthy")
            expect(target["healthcheck"], `${dependency} healthcheck`).to.not.equal(undefined);
          if (condition === "service_completed_successfully") expect(target["restart"]).to.equal("no");
        }
        for (const volume of asArray(service["volumes"] ?? [], "volumes")) {
          const source = asString(volume, "volume").split(":")[0]!;
          if (source.startsWith("."))
            expect(fileExists(resolve(INFRA, source)), `${name}: ${source}`).to.equal(true);
          else expect(Object.keys(asRecord(compose["volumes"], "volumes")), name).to.include(source);
        }
      }
      expect(at(services, "kafka", "image")).to.equal(`apache/kafka:${localKafkaVersion()}`);
      expect(at(services, "topics", "image")).to.equal(at(services, "kafka", "image"));
      expect(asArray(at(services, "topics", "volumes"), "volumes")).to.include(
        `./${relative(INFRA, TOPICS_SCRIPT)}:/scripts/${basename(TOPICS_SCRIPT)}:ro`,
      );
    });

    it("runs two workers with a /healthz check on the health port and a grace period above the shutdown budget", function () {
      const worker = asRecord(services["worker"], "worker");
      expect(Number(at(worker, "deploy", "replicas"))).to.be.at.least(2);
      expect(asArray(worker["command"], "command")[0]).to.equal("worker");
      const env = composeEnv(worker);
      const healthPort = effective(workerCommand, env, "TRACEHOUSE_HEALTH_PORT");
      const check = asArray(at(worker, "healthcheck", "test"), "test").join(" ");
      expect(check).to.include(`http://127.0.0.1:${healthPort}/healthz`);
      const shutdownMs = Number(effective(workerCommand, env, "TRACEHOUSE_SHUTDOWN_TIMEOUT_MS"));
      expect(composeDurationSeconds(worker["stop_grace_period"]) * 1000).to.be.above(shutdownMs + 5000);
      const migrate = asRecord(services["migrate"], "migrate");
      expect(asArray(migrate["command"], "command")).to.deep.equal(["migrate"]);
      expect(migrate["image"]).to.equal(worker["image"]);
    });

    it("every variable of the worker and migrate services is one their command reads", function () {
      const checks: [string, CliCommand][] = [
        ["worker", workerCommand],
        ["migrate", migrateCommand],
      ];
      for (const [name, command] of checks) {
        const env = composeEnv(asRecord(services[name], name));
        expect([...env.keys()], name).to.include.members([
          "CLICKHOUSE_URL",
          "CLICKHOUSE_USER",
          "CLICKHOUSE_PASSWORD",
        ]);
        for (const key of env.keys()) expect([...command.env.keys()], `${name} env ${key}`).to.include(key);
      }
    });

    it("the grafana profile provisions the ClickHouse plugin, both data sources, the dashboard and the rules", function () {
      const grafana = asRecord(services["grafana"], "grafana");
      const prometheus = asRecord(services["prometheus"], "prometheus");
      expect(grafana["profiles"]).to.deep.equal(["grafana"]);
      expect(prometheus["profiles"]).to.deep.equal(["grafana"]);
      expect(composeEnv(grafana).get("GF_PLUGINS_PREINSTALL_SYNC")?.split(",")).to.include(CLICKHOUSE_PLUGIN);
      const mounts = new Map(
        asArray(grafana["volumes"], "volumes").map((v) => {
          const [source, target] = asString(v, "volume").split(":");
          return [resolve(INFRA, source!), target!];
        }),
      );
      expect(mounts.get(DASHBOARD_FILE)).to.match(/^\/var\/lib\/grafana\/dashboards\//);
      expect(mounts.get(GRAFANA_RULES_FILE)).to.match(/^\/etc\/grafana\/provisioning\/alerting\//);
      expect(mounts.get(dirname(DATASOURCES_FILE))).to.equal("/etc/grafana/provisioning/datasources");
      const dashboardsProvider = readYaml(
        join(INFRA, "grafana", "provisioning", "dashboards", "tracehouse.yaml"),
      );
      expect(mounts.get(DASHBOARD_FILE)).to.equal(
        `${asString(at(dashboardsProvider, "providers", 0, "options", "path"), "path")}/${basename(DASHBOARD_FILE)}`,
      );

      const datasources = asArray(at(readYaml(DATASOURCES_FILE), "datasources"), "datasources").map((d) =>
        asRecord(d, "datasource"),
      );
      const clickhouse = datasources.find((d) => d["type"] === CLICKHOUSE_PLUGIN);
      expect(at(clickhouse, "jsonData", "host")).to.equal("clickhouse");
      expect(at(clickhouse, "jsonData", "defaultDatabase")).to.equal(DEFAULT_DATABASE);
      const clickhouseEnv = composeEnv(asRecord(services["clickhouse"], "clickhouse"));
      expect(String(at(clickhouse, "jsonData", "username"))).to.equal("$CLICKHOUSE_USER");
      expect(composeEnv(grafana).get("CLICKHOUSE_USER")).to.equal(clickhouseEnv.get("CLICKHOUSE_USER"));
      for (const rule of grafanaRules()) {
        const uids = asArray(rule["data"], "data").map((q) => at(q, "datasourceUid"));
        expect(uids).to.include(clickhouse?.["uid"]);
      }
      const prometheusSource = datasources.find((d) => d["type"] === "prometheus");
      expect(new URL(asString(prometheusSource?.["url"], "url")).hostname).to.equal("prometheus");

      // Prometheus scrapes every worker replica on the health port and loads the mounted rules.
      const config = readYaml(PROMETHEUS_CONFIG_FILE);
      const workerEnv = composeEnv(asRecord(services["worker"], "worker"));
      const [job] = asArray(at(config, "scrape_configs"), "scrape_configs");
      for (const sd of asArray(at(job, "dns_sd_configs"), "dns_sd_configs")) {
        for (const name of asArray(at(sd, "names"), "names")) expect(Object.keys(services)).to.include(name);
        expect(String(at(sd, "port"))).to.equal(
          effective(workerCommand, workerEnv, "TRACEHOUSE_HEALTH_PORT"),
        );
      }
      const promMounts = asArray(prometheus["volumes"], "volumes").map((v) =>
        asString(v, "volume").split(":"),
      );
      const rulesTarget = promMounts.find(
        ([source]) => resolve(INFRA, source!) === PROMETHEUS_RULES_FILE,
      )?.[1];
      const ruleGlobs = asArray(at(config, "rule_files"), "rule_files").map((g) => asString(g, "glob"));
      expect(
        ruleGlobs.some(
          (glob) => dirname(glob) === dirname(rulesTarget ?? "") && rulesTarget?.endsWith(".yaml"),
        ),
      ).to.equal(true);
      expect(composeDefault(composeEnv(grafana).get("CLICKHOUSE_PASSWORD") ?? "")).to.not.equal("");
    });
  });
});
