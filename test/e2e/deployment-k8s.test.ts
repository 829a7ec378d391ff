import { readdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { createTopicCatalogue } from "@tracehouse/schemas";
import { expect } from "chai";
import {
  asArray,
  asRecord,
  asString,
  at,
  fileExists,
  isYamlFile,
  localKafkaVersion,
  readText,
  readYaml,
} from "../src/deployment-files.js";
import { expectWorkerSeries } from "../src/deployment-dashboard.js";
import {
  K8S,
  NODE_RUNTIME_ENV,
  TOPICS_SCRIPT,
  baseObjects,
  containerEnv,
  containers,
  k8sObject,
  kustomization,
  labelsMatch,
  only,
  quantityBytes,
  quantityCores,
} from "../src/deployment-k8s.js";
import type { K8sObject } from "../src/deployment-k8s.js";
import {
  cliCommand,
  cliCommands,
  effective,
  requireBuiltCli,
  workerMetrics,
} from "../src/deployment-sources.js";
import type { CliCommand, WorkerMetric } from "../src/deployment-sources.js";

type Obj = Record<string, unknown>;

describe("deployment artifacts (infra/)", function () {
  let commands: string[];
  let workerCommand: CliCommand;
  let migrateCommand: CliCommand;
  let metrics: Map<string, WorkerMetric>;
  let objects: K8sObject[];

  before(async function () {
    requireBuiltCli();
    commands = cliCommands();
    workerCommand = cliCommand("worker");
    migrateCommand = cliCommand("migrate");
    metrics = await workerMetrics();
    objects = baseObjects();
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
});
