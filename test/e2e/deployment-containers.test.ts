import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CONTENT_TYPE_HEADER,
  RecordType,
  contentTypeOf,
  createTopicCatalogue,
  encodeRecord,
} from "@tracehouse/schemas";
import { uniqueName, useKafka } from "@tracehouse/testkit";
import { expect } from "chai";
import { Kafka, logLevel } from "kafkajs";
import { envelope } from "../src/deployment-data.js";
import { DASHBOARD_FILE, dashboardTargets, prometheusRules } from "../src/deployment-dashboard.js";
import { REPO_ROOT, asArray, asRecord, asString, at, readJson } from "../src/deployment-files.js";
import { baseObjects, containerEnv, containers, only } from "../src/deployment-k8s.js";
import type { K8sObject } from "../src/deployment-k8s.js";
import { baseMetricName, promQlReferences } from "../src/deployment-promql.js";
import { WORKER_CLI, cliCommand, effective, requireBuiltCli } from "../src/deployment-sources.js";
import type { CliCommand } from "../src/deployment-sources.js";

type Obj = Record<string, unknown>;

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

describe("deployment artifacts (infra/)", function () {
  let workerCommand: CliCommand;
  let objects: K8sObject[];

  before(function () {
    requireBuiltCli();
    workerCommand = cliCommand("worker");
    objects = baseObjects();
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
