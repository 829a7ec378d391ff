import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { ClickHouseTraceSchema, DEFAULT_DATABASE, createSink } from "@tracehouse/clickhouse";
import type { Sink } from "@tracehouse/clickhouse";
import {
  CONTENT_TYPE_HEADER,
  RecordType,
  contentTypeOf,
  createTopicCatalogue,
  encodeRecord,
} from "@tracehouse/schemas";
import type { RecordInputOf } from "@tracehouse/schemas";
import { uniqueName, useClickHouse, useKafka } from "@tracehouse/testkit";
import { expect } from "chai";
import { Kafka, logLevel } from "kafkajs";
import {
  INFRA,
  REPO_ROOT,
  asArray,
  asRecord,
  asString,
  at,
  deploymentFiles,
  fileExists,
  isYamlFile,
  localKafkaVersion,
  readJson,
  readText,
  readYaml,
  readYamlDocuments,
} from "../src/deployment-files.js";
import { RowBatch, envelope, traceId } from "../src/deployment-data.js";
import { expandClickHouseSql, referencedTables } from "../src/deployment-grafana.js";
import type { MacroContext } from "../src/deployment-grafana.js";
import { baseMetricName, promQlReferences } from "../src/deployment-promql.js";
import {
  WORKER_CLI,
  cliCommand,
  cliCommands,
  migrationObjects,
  workerMetrics,
} from "../src/deployment-sources.js";
import type { CliCommand, SchemaObjectKind, WorkerMetric } from "../src/deployment-sources.js";

type Obj = Record<string, unknown>;

const K8S = join(INFRA, "k8s");
const COMPOSE_FILE = join(INFRA, "docker-compose.yml");
const DASHBOARD_FILE = join(INFRA, "grafana", "tracehouse-dashboard.json");
const PROMETHEUS_RULES_FILE = join(INFRA, "alerts", "tracehouse-alerts.yaml");
const GRAFANA_RULES_FILE = join(INFRA, "alerts", "grafana-agent-latency.yaml");
const DATASOURCES_FILE = join(INFRA, "grafana", "provisioning", "datasources", "tracehouse.yaml");
const PROMETHEUS_CONFIG_FILE = join(INFRA, "grafana", "prometheus.yml");
const TOPICS_SCRIPT = join(K8S, "create-topics.sh");
const CLICKHOUSE_PLUGIN = "grafana-clickhouse-datasource";
/** Node's own variable: the container sizes its heap with it; it is not a worker setting. */
const NODE_RUNTIME_ENV = new Set(["NODE_OPTIONS"]);

interface K8sObject {
  readonly file: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly body: Obj;
}

function k8sObject(file: string, document: unknown): K8sObject {
  const body = asRecord(document, file);
  const metadata = asRecord(body["metadata"], `${file} metadata`);
  return {
    file,
    apiVersion: asString(body["apiVersion"], `${file} apiVersion`),
    kind: asString(body["kind"], `${file} kind`),
    name: asString(metadata["name"], `${file} metadata.name`),
    namespace: metadata["namespace"] === undefined ? undefined : asString(metadata["namespace"], file),
    body,
  };
}

function kustomization(dir: string): Obj {
  return asRecord(readYaml(join(dir, "kustomization.yaml")), `${dir}/kustomization.yaml`);
}

/** The objects `kubectl apply -k infra/k8s` creates, read from the files its kustomization lists. */
function baseObjects(): K8sObject[] {
  const resources = asArray(kustomization(K8S)["resources"], "resources").map((r) => asString(r, "resource"));
  return resources.flatMap((file) => readYamlDocuments(join(K8S, file)).map((doc) => k8sObject(file, doc)));
}

function only(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name ?? ""}, found ${found.length}`);
  return found[0]!;
}

function labelsMatch(selector: unknown, labels: unknown): boolean {
  const wanted = Object.entries(asRecord(selector, "selector"));
  const have = asRecord(labels, "labels");
  return wanted.length > 0 && wanted.every(([key, value]) => have[key] === value);
}

function containers(podSpec: unknown): Obj[] {
  return asArray(at(podSpec, "containers"), "containers").map((c) => asRecord(c, "container"));
}

/** The environment a container gets, with ConfigMap and Secret references resolved; fieldRef values are null. */
function containerEnv(container: Obj, objects: readonly K8sObject[]): Map<string, string | null> {
  const env = new Map<string, string | null>();
  const source = (kind: string, name: string): Obj => {
    const object = only(objects, kind, name).body;
    return asRecord(object["data"] ?? object["stringData"], `${kind} ${name} data`);
  };
  for (const from of asArray(container["envFrom"] ?? [], "envFrom")) {
    const ref = asRecord(from, "envFrom");
    const configMap = ref["configMapRef"];
    const secret = ref["secretRef"];
    const data =
      configMap !== undefined
        ? source("ConfigMap", asString(at(configMap, "name"), "configMapRef.name"))
        : source("Secret", asString(at(secret, "name"), "secretRef.name"));
    for (const [key, value] of Object.entries(data)) env.set(key, asString(value, key));
  }
  for (const item of asArray(container["env"] ?? [], "env")) {
    const entry = asRecord(item, "env");
    const name = asString(entry["name"], "env name");
    if (entry["value"] !== undefined) env.set(name, asString(entry["value"], name));
    else {
      const from = asRecord(entry["valueFrom"], `${name} valueFrom`);
      const keyRef = (from["configMapKeyRef"] ?? from["secretKeyRef"]) as Obj | undefined;
      if (keyRef === undefined) env.set(name, null);
      else {
        const kind = from["configMapKeyRef"] !== undefined ? "ConfigMap" : "Secret";
        const data = source(kind, asString(keyRef["name"], "name"));
        const key = asString(keyRef["key"], "key");
        expect(data, `${name} refers to ${kind} key ${key}`).to.have.property(key);
        env.set(name, asString(data[key], key));
      }
    }
  }
  return env;
}

/** A setting's effective value: the environment's, else the CLI's default. */
function effective(command: CliCommand, env: ReadonlyMap<string, string | null>, name: string): string {
  const value = env.get(name);
  if (value !== undefined && value !== null) return value;
  const fallback = command.env.get(name)?.defaultValue;
  if (fallback === undefined || fallback === null) throw new Error(`${name} has no value and no default`);
  return fallback;
}

function quantityCores(value: unknown): number {
  const text = String(value);
  return text.endsWith("m") ? Number(text.slice(0, -1)) / 1000 : Number(text);
}

function quantityBytes(value: unknown): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(String(value));
  if (match === null) throw new Error(`not a memory quantity: ${String(value)}`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1e3, M: 1e6, G: 1e9 }[match[2] ?? ""] ?? 1;
  return Number(match[1]) * unit;
}

function composeDurationSeconds(value: unknown): number {
  const match = /^(\d+)(ms|s|m)$/.exec(String(value));
  if (match === null) throw new Error(`not a duration: ${String(value)}`);
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60 }[match[2] as "ms" | "s" | "m"];
}

function composeEnv(service: Obj): Map<string, string> {
  const env = new Map<string, string>();
  const environment = service["environment"] ?? {};
  if (Array.isArray(environment)) {
    for (const item of environment) {
      const [key, ...value] = asString(item, "environment").split("=");
      env.set(key!, value.join("="));
    }
  } else {
    for (const [key, value] of Object.entries(asRecord(environment, "environment")))
      env.set(key, String(value));
  }
  return env;
}

/** `${VAR:-default}` → default, as compose resolves it when VAR is unset. */
function composeDefault(value: string): string {
  return value.replace(/\$\{\w+:-([^}]*)\}/g, "$1");
}

interface DashboardTarget {
  readonly panel: string;
  readonly datasource: Obj;
  readonly target: Obj;
}

function dashboardTargets(dashboard: Obj): DashboardTarget[] {
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

function clickHouseTargets(dashboard: Obj): { panel: string; sql: string }[] {
  return dashboardTargets(dashboard)
    .filter((t) => t.datasource["type"] === CLICKHOUSE_PLUGIN)
    .map((t) => ({ panel: t.panel, sql: asString(t.target["rawSql"], `${t.panel} rawSql`) }));
}

function variable(dashboard: Obj, name: string): Obj {
  const found = asArray(at(dashboard, "templating", "list"), "templating")
    .map((v) => asRecord(v, "variable"))
    .find((v) => v["name"] === name);
  if (found === undefined) throw new Error(`dashboard variable ${name} is missing`);
  return found;
}

interface PrometheusRule {
  readonly alert: string;
  readonly expr: string;
  readonly rule: Obj;
}

function prometheusRules(): PrometheusRule[] {
  const groups = asArray(at(readYaml(PROMETHEUS_RULES_FILE), "groups"), "groups");
  return groups.flatMap((group) =>
    asArray(at(group, "rules"), "rules").map((item) => {
      const rule = asRecord(item, "rule");
      return { alert: asString(rule["alert"], "alert"), expr: asString(rule["expr"], "expr"), rule };
    }),
  );
}

function grafanaRules(): Obj[] {
  const groups = asArray(at(readYaml(GRAFANA_RULES_FILE), "groups"), "groups");
  return groups.flatMap((group) => asArray(at(group, "rules"), "rules").map((r) => asRecord(r, "rule")));
}

function grafanaRuleSql(rule: Obj): string[] {
  return asArray(rule["data"], "data")
    .map((query) => asRecord(query, "query"))
    .filter((query) => query["datasourceUid"] !== "__expr__")
    .map((query) => asString(at(query, "model", "rawSql"), "rawSql"));
}

/** Every metric and label a PromQL expression uses exists in the worker's registry. */
function expectWorkerSeries(
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

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function poll<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(`timed out waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`);
}

async function httpStatus(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
}

async function testSink(database: string): Promise<Sink> {
  const service = await useClickHouse();
  const sink = createSink(
    service.url === undefined
      ? { dataDir: service.dataDir, database }
      : { url: service.url, username: service.username, password: service.password, database },
  );
  await new ClickHouseTraceSchema(sink).createTables();
  return sink;
}

describe("deployment artifacts (infra/)", function () {
  let commands: string[];
  let workerCommand: CliCommand;
  let migrateCommand: CliCommand;
  let metrics: Map<string, WorkerMetric>;
  let schemaObjects: Map<string, SchemaObjectKind>;
  let objects: K8sObject[];
  let compose: Obj;
  let services: Obj;

  before(async function () {
    if (!fileExists(WORKER_CLI)) {
      throw new Error(`${relative(REPO_ROOT, WORKER_CLI)} is missing: build the worker (npm run build)`);
    }
    commands = cliCommands();
    workerCommand = cliCommand("worker");
    migrateCommand = cliCommand("migrate");
    metrics = await workerMetrics();
    schemaObjects = migrationObjects();
    objects = baseObjects();
    compose = asRecord(readYaml(COMPOSE_FILE), "compose");
    services = asRecord(compose["services"], "services");
  });

  describe("files", function () {
    it("every YAML file parses and the JSON dashboard parses", function () {
      const files = deploymentFiles();
      const yamlFiles = files.filter(isYamlFile);
      expect(yamlFiles.map((f) => relative(INFRA, f))).to.include.members([
        "docker-compose.yml",
        "k8s/kustomization.yaml",
        "alerts/tracehouse-alerts.yaml",
      ]);
      for (const file of yamlFiles)
        expect(readYamlDocuments(file), relative(INFRA, file)).to.have.length.above(0);
      for (const file of files.filter((f) => f.endsWith(".json")))
        expect(() => readJson(file)).to.not.throw();
    });

    it("the Dockerfile builds every package the CLI needs and runs the worker through it", function () {
      const dockerfile = readText(join(INFRA, "Dockerfile"));
      const entrypoint = /^ENTRYPOINT\s+(\[.*\])$/m.exec(dockerfile)?.[1];
      const cmd = /^CMD\s+(\[.*\])$/m.exec(dockerfile)?.[1];
      expect(JSON.parse(entrypoint ?? "null")).to.deep.equal(["node", relative(REPO_ROOT, WORKER_CLI)]);
      expect(commands).to.include((JSON.parse(cmd ?? "[]") as string[])[0]);
      expect(/^EXPOSE\s+(\d+)$/m.exec(dockerfile)?.[1]).to.equal(
        workerCommand.options.get("--health-port")?.defaultValue,
      );
      expect(dockerfile).to.match(/^FROM node:20\S* AS build$/m);

      // Runtime packages: @tracehouse/cli and its @tracehouse dependencies, each with its "files".
      const copied = /for pkg in ([a-z ]+); do/.exec(dockerfile)?.[1]?.split(" ") ?? [];
      const needed = new Set<string>();
      const visit = (dir: string): void => {
        if (needed.has(dir)) return;
        needed.add(dir);
        const pkg = readJson(join(REPO_ROOT, "packages", dir, "package.json")) as {
          dependencies?: Record<string, string>;
        };
        for (const dep of Object.keys(pkg.dependencies ?? {})) {
          if (dep.startsWith("@tracehouse/")) visit(dep.slice("@tracehouse/".length));
        }
      };
      visit("cli");
      expect(copied).to.have.members([...needed]);
      for (const dir of needed) {
        const { files } = readJson(join(REPO_ROOT, "packages", dir, "package.json")) as { files: string[] };
        for (const entry of files.filter((f) => f !== "dist")) {
          expect(dockerfile, `packages/${dir}/${entry}`).to.include(`packages/${dir}/${entry} `);
        }
      }
      for (const copy of dockerfile.matchAll(/^COPY (?!--from)(\S+) /gm)) {
        expect(fileExists(join(REPO_ROOT, copy[1]!)), copy[1]).to.equal(true);
      }
    });
  });

  describe("Kubernetes manifests", function () {
    it("the kustomization lists every manifest, and only files that exist", function () {
      const k = kustomization(K8S);
      const resources = asArray(k["resources"], "resources").map((r) => asString(r, "resource"));
      for (const file of resources) expect(fileExists(join(K8S, file)), file).to.equal(true);
      const manifests = readdirSync(K8S).filter((f) => isYamlFile(f) && f !== "kustomization.yaml");
      expect(resources).to.have.members(manifests);
      for (const generator of asArray(k["configMapGenerator"], "configMapGenerator")) {
        for (const file of asArray(at(generator, "files"), "files")) {
          expect(fileExists(join(K8S, asString(file, "file"))), String(file)).to.equal(true);
        }
      }
    });

    it("every object has apiVersion, kind, metadata.name and the fields its kind requires", function () {
      const apiVersions: Record<string, string> = {
        Namespace: "v1",
        ConfigMap: "v1",
        Secret: "v1",
        Service: "v1",
        Deployment: "apps/v1",
        Job: "batch/v1",
        HorizontalPodAutoscaler: "autoscaling/v2",
        PodDisruptionBudget: "policy/v1",
      };
      const namespace = asString(kustomization(K8S)["namespace"], "namespace");
      expect(only(objects, "Namespace").name).to.equal(namespace);
      expect(new Set(objects.map((o) => o.kind))).to.have.all.keys(Object.keys(apiVersions));
      for (const object of objects) {
        const where = `${object.file}: ${object.kind} ${object.name}`;
        expect(object.apiVersion, where).to.equal(apiVersions[object.kind]);
        expect(object.name, where).to.match(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
        if (object.kind !== "Namespace") expect(object.namespace, where).to.equal(namespace);
        const spec = object.body["spec"];
        switch (object.kind) {
          case "ConfigMap":
            for (const value of Object.values(asRecord(object.body["data"], where))) {
              expect(value, where).to.be.a("string");
            }
            break;
          case "Secret":
            expect(
              Object.keys(asRecord(object.body["stringData"] ?? object.body["data"], where)),
            ).to.have.length.above(0);
            break;
          case "Deployment":
            expect(
              labelsMatch(at(spec, "selector", "matchLabels"), at(spec, "template", "metadata", "labels")),
              where,
            ).to.equal(true);
            expect(containers(at(spec, "template", "spec")), where).to.have.length.above(0);
            break;
          case "Job":
            expect(["Never", "OnFailure"], where).to.include(at(spec, "template", "spec", "restartPolicy"));
            expect(containers(at(spec, "template", "spec")), where).to.have.length.above(0);
            break;
          case "Service":
            expect(asArray(at(spec, "ports"), where), where).to.have.length.above(0);
            expect(Object.keys(asRecord(at(spec, "selector"), where)), where).to.have.length.above(0);
            break;
          case "HorizontalPodAutoscaler":
            expect(Number(at(spec, "maxReplicas")), where).to.be.at.least(Number(at(spec, "minReplicas")));
            expect(asArray(at(spec, "metrics"), where), where).to.have.length.above(0);
            break;
          case "PodDisruptionBudget": {
            const s = asRecord(spec, where);
            expect((s["minAvailable"] === undefined) !== (s["maxUnavailable"] === undefined), where).to.equal(
              true,
            );
            asRecord(at(s, "selector", "matchLabels"), where);
            break;
          }
        }
      }
    });

    it("the worker Deployment runs `tracehouse worker` with 2+ replicas, probes on the real health port and paths", function () {
      const deployment = only(objects, "Deployment").body;
      const pod = at(deployment, "spec", "template");
      const [container] = containers(at(pod, "spec"));
      expect(Number(at(deployment, "spec", "replicas"))).to.be.at.least(2);
      const args = asArray(container!["args"], "args");
      expect(args[0]).to.equal("worker");
      expect(commands).to.include(args[0]);

      const env = containerEnv(container!, objects);
      const healthPort = Number(effective(workerCommand, env, "TRACEHOUSE_HEALTH_PORT"));
      expect(healthPort).to.be.within(1, 65535);
      const ports = asArray(container!["ports"], "ports").map((p) => asRecord(p, "port"));
      const portNumber = (port: unknown): number =>
        typeof port === "number" ? port : Number(ports.find((p) => p["name"] === port)?.["containerPort"]);
      const probe = (name: string): { path: string; port: number } => ({
        path: asString(at(container, name, "httpGet", "path"), name),
        port: portNumber(at(container, name, "httpGet", "port")),
      });
      expect(probe("livenessProbe")).to.deep.equal({ path: "/healthz", port: healthPort });
      expect(probe("readinessProbe")).to.deep.equal({ path: "/readyz", port: healthPort });
      expect(probe("startupProbe")).to.deep.equal({ path: "/healthz", port: healthPort });

      const annotations = asRecord(at(pod, "metadata", "annotations"), "annotations");
      expect(annotations).to.include({
        "prometheus.io/scrape": "true",
        "prometheus.io/port": String(healthPort),
        "prometheus.io/path": "/metrics",
      });
    });

    it("the worker's grace period outlasts its shutdown budget and its resources are bounded", function () {
      const deployment = only(objects, "Deployment").body;
      const podSpec = at(deployment, "spec", "template", "spec");
      const [container] = containers(podSpec);
      const env = containerEnv(container!, objects);
      const shutdownMs = Number(effective(workerCommand, env, "TRACEHOUSE_SHUTDOWN_TIMEOUT_MS"));
      expect(shutdownMs).to.be.above(0);
      expect(Number(at(podSpec, "terminationGracePeriodSeconds")) * 1000).to.be.above(shutdownMs + 5000);

      const requests = asRecord(at(container, "resources", "requests"), "requests");
      const limits = asRecord(at(container, "resources", "limits"), "limits");
      expect(quantityCores(requests["cpu"])).to.be.above(0).and.at.most(quantityCores(limits["cpu"]));
      expect(quantityBytes(requests["memory"])).to.be.above(0).and.at.most(quantityBytes(limits["memory"]));
      const heapMiB = Number(/--max-old-space-size=(\d+)/.exec(env.get("NODE_OPTIONS") ?? "")?.[1]);
      const bufferedBytes = Number(
        effective(workerCommand, env, "TRACEHOUSE_MAX_BUFFERED_BYTES").split(" ")[0],
      );
      expect(heapMiB * 1024 * 1024).to.be.below(quantityBytes(limits["memory"]));
      expect(heapMiB * 1024 * 1024).to.be.above(4 * bufferedBytes);
    });

    it("every variable the worker and migrate containers get is one their command reads", function () {
      const deployment = only(objects, "Deployment").body;
      const [worker] = containers(at(deployment, "spec", "template", "spec"));
      const workerEnv = containerEnv(worker!, objects);
      expect(workerEnv.size).to.be.above(3);
      for (const name of workerEnv.keys()) {
        if (NODE_RUNTIME_ENV.has(name)) continue;
        expect([...workerCommand.env.keys()], `worker env ${name}`).to.include(name);
      }
      const job = only(objects, "Job", "tracehouse-migrate").body;
      const [migrate] = containers(at(job, "spec", "template", "spec"));
      expect(asArray(migrate!["args"], "args")).to.deep.equal(["migrate"]);
      expect(migrate!["image"]).to.equal(worker!["image"]);
      const migrateEnv = containerEnv(migrate!, objects);
      expect([...migrateEnv.keys()]).to.include.members([
        "CLICKHOUSE_URL",
        "CLICKHOUSE_USER",
        "CLICKHOUSE_PASSWORD",
      ]);
      for (const name of migrateEnv.keys()) {
        expect([...migrateCommand.env.keys()], `migrate env ${name}`).to.include(name);
      }
      const secret = only(objects, "Secret");
      for (const value of Object.values(asRecord(secret.body["stringData"], "stringData"))) {
        expect(value, "the example Secret holds placeholders only").to.match(/^REPLACE_ME/);
      }
    });

    it("the metrics Service, the HPA and the PDB select and target the worker Deployment", function () {
      const deployment = only(objects, "Deployment");
      const templateLabels = at(deployment.body, "spec", "template", "metadata", "labels");
      const [container] = containers(at(deployment.body, "spec", "template", "spec"));
      const portNames = asArray(container!["ports"], "ports").map((p) => at(p, "name"));

      const service = only(objects, "Service").body;
      expect(labelsMatch(at(service, "spec", "selector"), templateLabels)).to.equal(true);
      for (const port of asArray(at(service, "spec", "ports"), "ports")) {
        expect(portNames).to.include(at(port, "targetPort"));
      }

      const hpa = asRecord(only(objects, "HorizontalPodAutoscaler").body["spec"], "hpa spec");
      expect(hpa["scaleTargetRef"]).to.deep.equal({
        apiVersion: deployment.apiVersion,
        kind: "Deployment",
        name: deployment.name,
      });
      expect(Number(hpa["minReplicas"])).to.be.at.least(2);
      const consumedPartitions = createTopicCatalogue()
        .all.filter((topic) => topic.recordType !== null)
        .reduce((sum, topic) => sum + topic.partitions, 0);
      expect(Number(hpa["maxReplicas"]), "replicas beyond the partitions idle").to.be.at.most(
        consumedPartitions,
      );
      const cpu = asArray(hpa["metrics"], "metrics").find((m) => at(m, "type") === "Resource");
      expect(at(cpu, "resource", "name")).to.equal("cpu");

      const pdb = only(objects, "PodDisruptionBudget").body;
      expect(labelsMatch(at(pdb, "spec", "selector", "matchLabels"), templateLabels)).to.equal(true);
      expect(Number(at(pdb, "spec", "maxUnavailable"))).to.be.below(
        Number(at(deployment.body, "spec", "replicas")),
      );
    });

    it("the topic Job runs create-topics.sh from its generated ConfigMap in the Kafka image the repo runs", function () {
      const job = only(objects, "Job", "tracehouse-topics").body;
      const podSpec = at(job, "spec", "template", "spec");
      const [container] = containers(podSpec);
      expect(container!["image"]).to.equal(`apache/kafka:${localKafkaVersion()}`);
      const command = asArray(container!["command"], "command").map((c) => asString(c, "command"));
      const mount = asRecord(
        asArray(container!["volumeMounts"], "mounts").find((m) =>
          command.at(-1)?.startsWith(`${asString(at(m, "mountPath"), "")}/`),
        ),
        "mount of the script",
      );
      expect(basename(command.at(-1)!)).to.equal(basename(TOPICS_SCRIPT));
      const volume = asArray(at(podSpec, "volumes"), "volumes").find((v) => at(v, "name") === mount["name"]);
      const generators = asArray(kustomization(K8S)["configMapGenerator"], "generators");
      const generator = generators.find((g) => at(g, "name") === at(volume, "configMap", "name"));
      expect(asArray(at(generator, "files"), "files")).to.include(basename(TOPICS_SCRIPT));
      const env = containerEnv(container!, objects);
      expect(env.get("KAFKA_BOOTSTRAP")).to.equal(
        asRecord(only(objects, "ConfigMap").body["data"], "data")["KAFKA_BROKERS"],
      );
      expect(readText(TOPICS_SCRIPT)).to.include("KAFKA_BOOTSTRAP").and.include("TOPIC_PREFIX");
    });

    it("the sasl-ssl overlay sets only variables the worker reads, with secret files from a mounted Secret", function () {
      const dir = join(K8S, "overlays", "sasl-ssl");
      const k = kustomization(dir);
      const resources = asArray(k["resources"], "resources").map((r) => asString(r, "resource"));
      expect(resources.map((r) => resolve(dir, r))).to.include(K8S);
      const secretFile = resources.find((r) => r.startsWith("secret-"))!;
      const secret = k8sObject(secretFile, readYaml(join(dir, secretFile)));
      const keys = asRecord(secret.body["stringData"], "stringData");
      for (const value of Object.values(keys)) expect(value, "placeholders only").to.match(/^REPLACE_ME/);
      const patch = (kind: string): Obj => {
        const entry = asArray(k["patches"], "patches").find((p) => at(p, "target", "kind") === kind);
        return asRecord(readYaml(join(dir, asString(at(entry, "path"), "path"))), kind);
      };
      const data = asRecord(patch("ConfigMap")["data"], "data");
      for (const name of Object.keys(data)) expect([...workerCommand.env.keys()], name).to.include(name);
      const [container] = containers(at(patch("Deployment"), "spec", "template", "spec"));
      const volumes = asArray(at(patch("Deployment"), "spec", "template", "spec", "volumes"), "volumes");
      const volume = volumes.find((v) => asRecord(v, "volume")["secret"] !== undefined);
      expect(at(volume, "secret", "secretName")).to.equal(secret.name);
      const mount = asArray(container!["volumeMounts"], "mounts").find(
        (m) => at(m, "name") === at(volume, "name"),
      );
      const mountPath = asString(at(mount, "mountPath"), "mountPath");
      const files = Object.entries(data).filter(([name]) => name.endsWith("_FILE"));
      expect(files.map(([name]) => name)).to.include.members(["KAFKA_SASL_PASSWORD_FILE", "KAFKA_CA_FILE"]);
      for (const [name, value] of files) {
        const path = asString(value, name);
        expect(dirname(path), name).to.equal(mountPath);
        expect(Object.keys(keys), name).to.include(basename(path));
      }
    });

    it("the lag-autoscaling overlay patches the base HPA with an External metric the workers export", function () {
      const dir = join(K8S, "overlays", "lag-autoscaling");
      const k = kustomization(dir);
      const bases = asArray(k["resources"], "resources").map((r) => resolve(dir, asString(r, "resource")));
      expect(bases).to.deep.equal([K8S]);
      const [patch] = asArray(k["patches"], "patches").map((p) => asRecord(p, "patch"));
      const target = asRecord(patch!["target"], "target");
      const patched = only(objects, asString(target["kind"], "kind"), asString(target["name"], "name"));
      const body = k8sObject("patch", readYaml(join(dir, asString(patch!["path"], "path"))));
      expect([body.kind, body.name, body.apiVersion]).to.deep.equal([
        patched.kind,
        patched.name,
        patched.apiVersion,
      ]);
      const external = asArray(at(body.body, "spec", "metrics"), "metrics").find(
        (m) => at(m, "type") === "External",
      );
      const metric = metrics.get(asString(at(external, "external", "metric", "name"), "metric"));
      expect(metric?.type).to.equal("gauge");
      const adapter = readYaml(join(dir, "prometheus-adapter-values.yaml"));
      for (const rule of asArray(at(adapter, "rules", "external"), "external rules")) {
        // namespace is a target label Prometheus's Kubernetes discovery adds, which the adapter maps to the HPA's namespace.
        const namespaceLabel = Object.keys(asRecord(at(rule, "resources", "overrides"), "overrides"));
        expect(namespaceLabel).to.deep.equal(["namespace"]);
        expectWorkerSeries(
          asString(at(rule, "seriesQuery"), "seriesQuery"),
          metrics,
          "adapter",
          namespaceLabel,
        );
        expect(at(rule, "name", "as")).to.equal(metric?.name);
      }
    });
  });

  describe("topic creation script", function () {
    it("is valid sh and creates exactly the catalogue's topics, partitions and retention", function () {
      expect(spawnSync("sh", ["-n", TOPICS_SCRIPT]).status).to.equal(0);
      const dir = mkdtempSync(join(tmpdir(), "tracehouse-topics-"));
      try {
        const log = join(dir, "calls.jsonl");
        const recorder = join(dir, "kafka-topics.sh");
        writeFileSync(
          recorder,
          `#!${process.execPath}\nrequire("node:fs").appendFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)) + "\\n");\n`,
        );
        chmodSync(recorder, 0o755);
        const prefix = "acme.tracehouse.";
        const run = spawnSync("sh", [TOPICS_SCRIPT], {
          encoding: "utf8",
          env: {
            PATH: process.env["PATH"],
            KAFKA_BOOTSTRAP: "broker-a:9092,broker-b:9092",
            TOPIC_PREFIX: prefix,
            REPLICATION_FACTOR: "3",
            MIN_INSYNC_REPLICAS: "2",
            KAFKA_TOPICS_BIN: recorder,
          },
        });
        expect(run.status, run.stderr).to.equal(0);
        const calls = readText(log)
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as string[]);
        const created = calls.map((args) => {
          const value = (flag: string): string | undefined => args[args.indexOf(flag) + 1];
          const configs = Object.fromEntries(
            args.flatMap((arg, i) =>
              args[i - 1] === "--config" ? [arg.split("=") as [string, string]] : [],
            ),
          );
          expect(args).to.include.members(["--create", "--if-not-exists"]);
          expect(value("--bootstrap-server")).to.equal("broker-a:9092,broker-b:9092");
          expect(value("--replication-factor")).to.equal("3");
          expect(configs["min.insync.replicas"]).to.equal("2");
          return {
            name: value("--topic"),
            partitions: Number(value("--partitions")),
            retentionMs: Number(configs["retention.ms"]),
            cleanupPolicy: configs["cleanup.policy"],
          };
        });
        const catalogue = createTopicCatalogue({ prefix }).all.map((spec) => ({
          name: spec.name,
          partitions: spec.partitions,
          retentionMs: spec.retentionMs,
          cleanupPolicy: spec.cleanupPolicy,
        }));
        expect(created).to.have.deep.members(catalogue);
        expect(created).to.have.length(catalogue.length);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    it("for a secured broker passes the worker's TLS and SASL settings as a client config file, the password not in the arguments", function () {
      const dir = mkdtempSync(join(tmpdir(), "tracehouse-topics-secure-"));
      try {
        const log = join(dir, "calls.jsonl");
        const recorder = join(dir, "kafka-topics.sh");
        writeFileSync(join(dir, "password"), "topics-secret-77\n");
        writeFileSync(
          recorder,
          `#!${process.execPath}\nconst fs = require("node:fs"); const args = process.argv.slice(2); const i = args.indexOf("--command-config");\n` +
            `fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ args, config: i < 0 ? null : fs.readFileSync(args[i + 1], "utf8") }) + "\\n");\n`,
        );
        chmodSync(recorder, 0o755);
        const run = spawnSync("sh", [TOPICS_SCRIPT], {
          encoding: "utf8",
          env: {
            PATH: process.env["PATH"],
            KAFKA_BOOTSTRAP: "broker-a:9093",
            KAFKA_TOPICS_BIN: recorder,
            KAFKA_SECURITY_PROTOCOL: "sasl_ssl",
            KAFKA_CA_FILE: "/etc/tracehouse/secrets/ca.pem",
            KAFKA_SASL_MECHANISM: "scram-sha-512",
            KAFKA_SASL_USERNAME: "tracehouse-worker",
            KAFKA_SASL_PASSWORD_FILE: join(dir, "password"),
          },
        });
        expect(run.status, run.stderr).to.equal(0);
        const calls = readText(log)
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as { args: string[]; config: string | null });
        expect(calls).to.have.length(createTopicCatalogue().all.length);
        for (const call of calls) {
          expect(call.args.join(" ")).to.not.include("topics-secret-77");
          expect(call.config).to.include("security.protocol=SASL_SSL");
          expect(call.config).to.include("ssl.truststore.type=PEM");
          expect(call.config).to.include("ssl.truststore.location=/etc/tracehouse/secrets/ca.pem");
          expect(call.config).to.include("sasl.mechanism=SCRAM-SHA-512");
          expect(call.config).to.include(
            'org.apache.kafka.common.security.scram.ScramLoginModule required username="tracehouse-worker" password="topics-secret-77";',
          );
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
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

  describe("the worker and migrate containers, run as the manifests run them", function () {
    let dataDir: string;
    before(function () {
      dataDir = mkdtempSync(join(tmpdir(), "tracehouse-deploy-"));
    });
    after(function () {
      rmSync(dataDir, { recursive: true, force: true });
    });

    /** The container's env with Kafka and ClickHouse pointed at this machine's real services. */
    function localEnv(container: Obj, overrides: Record<string, string>): Record<string, string> {
      const env: Record<string, string> = { PATH: process.env["PATH"] ?? "" };
      for (const [name, value] of containerEnv(container, objects))
        env[name] = value ?? "tracehouse-worker-test-pod";
      delete env["CLICKHOUSE_URL"];
      return { ...env, TRACEHOUSE_DATA_DIR: join(dataDir, "chdb"), ...overrides };
    }

    function runCli(
      args: readonly string[],
      env: Record<string, string>,
    ): ChildProcess & { output: () => string } {
      const child = spawn(process.execPath, [WORKER_CLI, ...args], { cwd: dataDir, env });
      let output = "";
      child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
      return Object.assign(child, { output: () => output });
    }

    function exit(child: ChildProcess): Promise<number | null> {
      return new Promise((done) => {
        if (child.exitCode !== null) done(child.exitCode);
        else child.once("exit", (code) => done(code));
      });
    }

    it("the migrate Job's command applies every migration once", async function () {
      const job = only(objects, "Job", "tracehouse-migrate").body;
      const [container] = containers(at(job, "spec", "template", "spec"));
      const args = asArray(container!["args"], "args").map((a) => asString(a, "arg"));
      const env = localEnv(container!, {});
      const first = runCli(args, env);
      expect(await exit(first), first.output()).to.equal(0);
      const versions = readdirSync(join(REPO_ROOT, "packages", "clickhouse", "migrations")).filter((f) =>
        f.endsWith(".sql"),
      );
      const applied = /applied \[([^\]]*)\]/
        .exec(first.output())?.[1]
        ?.split(",")
        .filter((v) => v.trim() !== "");
      expect(applied, first.output()).to.have.length(versions.length);
      const again = runCli(args, env);
      expect(await exit(again), again.output()).to.equal(0);
      expect(again.output()).to.match(/: applied \[\]/);
    });

    it("the Deployment's worker answers its probes, writes records, serves the alerts' metrics and stops on SIGTERM in time", async function () {
      const deployment = only(objects, "Deployment").body;
      const podSpec = at(deployment, "spec", "template", "spec");
      const [container] = containers(podSpec);
      const { brokers } = await useKafka();
      const prefix = `${uniqueName("deploy")}.`;
      const catalogue = createTopicCatalogue({ prefix });
      const kafka = new Kafka({
        clientId: uniqueName("deploy"),
        brokers: [...brokers],
        logLevel: logLevel.ERROR,
      });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({
        waitForLeaders: true,
        topics: catalogue.all.map((spec) => ({ topic: spec.name, numPartitions: 1, replicationFactor: 1 })),
      });
      const port = await freePort();
      const annotations = asRecord(
        at(deployment, "spec", "template", "metadata", "annotations"),
        "annotations",
      );
      const url = (path: unknown): string => `http://127.0.0.1:${port}${asString(path, "path")}`;
      const args = asArray(container!["args"], "args").map((a) => asString(a, "arg"));
      const child = runCli(
        args,
        localEnv(container!, {
          KAFKA_BROKERS: brokers.join(","),
          TRACEHOUSE_TOPIC_PREFIX: prefix,
          TRACEHOUSE_GROUP_ID: uniqueName("deploy-group"),
          TRACEHOUSE_HEALTH_PORT: String(port),
          TRACEHOUSE_HEALTH_HOST: "127.0.0.1",
        }),
      );
      const producer = kafka.producer();
      try {
        const live = await poll("liveness", 60_000, async () => {
          const answer = await httpStatus(url(at(container, "livenessProbe", "httpGet", "path")));
          return answer.status === 200 ? answer : undefined;
        });
        expect(JSON.parse(live.body)).to.have.property("ok", true);
        await poll("readiness", 60_000, async () => {
          const answer = await httpStatus(url(at(container, "readinessProbe", "httpGet", "path")));
          return answer.status === 200 ? answer : undefined;
        });

        await producer.connect();
        const record = encodeRecord(RecordType.Execution, {
          ...envelope("deploy-agent", Date.now() * 1000, "deploy-1"),
          lifecycle: "STARTED",
          status: "running",
        });
        await producer.send({
          topic: catalogue.topicFor(RecordType.Execution),
          messages: [
            { value: record, headers: { [CONTENT_TYPE_HEADER]: contentTypeOf(RecordType.Execution) } },
          ],
        });
        const exposition = await poll("the row to be written", 60_000, async () => {
          const { body } = await httpStatus(url(annotations["prometheus.io/path"]));
          return /_rows_total\{table="agent_executions"\} 1\b/.test(body) ? body : undefined;
        });
        const exposed = new Set([...exposition.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
        const used = [
          ...prometheusRules().flatMap((r) => promQlReferences(r.expr).metrics),
          ...dashboardTargets(asRecord(readJson(DASHBOARD_FILE), "dashboard"))
            .filter((t) => t.datasource["type"] === "prometheus")
            .flatMap((t) => promQlReferences(asString(t.target["expr"], "expr")).metrics),
        ];
        for (const series of used) {
          expect(baseMetricName(series, exposed as Set<string>), `${series} on /metrics`).to.not.equal(null);
        }

        const grace = Number(at(podSpec, "terminationGracePeriodSeconds")) * 1000;
        const stopping = Date.now();
        child.kill("SIGTERM");
        expect(await exit(child), child.output()).to.equal(0);
        expect(Date.now() - stopping).to.be.below(grace);
      } finally {
        if (child.exitCode === null) {
          child.kill("SIGKILL");
          await exit(child);
        }
        await producer.disconnect();
        await admin.deleteTopics({ topics: catalogue.all.map((spec) => spec.name) });
        await admin.disconnect();
      }

      const database = effective(workerCommand, containerEnv(container!, objects), "TRACEHOUSE_DATABASE");
      const query = runCli(
        ["query", `SELECT agent_name, execution_id FROM ${database}.agent_executions`],
        localEnv(container!, {}),
      );
      expect(await exit(query), query.output()).to.equal(0);
      expect(query.output()).to.include('{"agent_name":"deploy-agent","execution_id":"deploy-1"}');
    });
  });
});
