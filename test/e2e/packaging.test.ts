/**
 * The packages as a new user installs them: `npm pack` tarballs of every public package,
 * checked with publint and are-the-types-wrong, each installed on its own into a scratch
 * project in the OS temp directory (outside the workspace: nothing resolves from the
 * monorepo), and the README snippets, with exactly the packages of their install lines,
 * type-checked, compiled and run there against the test suite's Kafka broker.
 */
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTopicCatalogue, decodeRecord, type DecodedRecord } from "@tracehouse/schemas";
import { uniqueName, useKafka } from "@tracehouse/testkit";
import { expect } from "chai";
import { Kafka, logLevel } from "kafkajs";
import {
  PUBLIC_PACKAGES,
  compileAndRun,
  installProject,
  packPackages,
  publint,
  readmeSnippet,
  replaceOnce,
  run,
  type PublicPackage,
  type Tarballs,
} from "../src/packaging.js";

/** Per package: a program using a few of its exports with their types, and the names it prints. */
const probes: Record<PublicPackage, { code: string; exports: string[] }> = {
  schemas: {
    code: `import { createTopicCatalogue, decodeRecord, TracehouseError, type DecodedRecord } from "@tracehouse/schemas";
const decode: (bytes: Uint8Array) => DecodedRecord = decodeRecord;
const error: Error = new TracehouseError("x");
console.log(JSON.stringify({ catalogue: typeof createTopicCatalogue(), decode: typeof decode, error: error.name }));`,
    exports: ["createTopicCatalogue", "decodeRecord", "TracehouseError"],
  },
  context: {
    code: `import { InboundTrust, TraceContext } from "@tracehouse/context";
const traceparent: string = TraceContext.create().traceparent;
const trusted: boolean = InboundTrust.publicEdge.trustIdentity;
console.log(JSON.stringify({ traceparent, trusted }));`,
    exports: ["TraceContext", "createHttpMiddleware", "InboundTrust"],
  },
  producer: {
    code: `import { createExecutionTracker, createProducer } from "@tracehouse/producer";
const make: typeof createProducer = createProducer;
console.log(JSON.stringify({ make: typeof make, tracker: typeof createExecutionTracker }));`,
    exports: ["createProducer", "createExecutionTracker", "createAgentTracer"],
  },
  clickhouse: {
    code: `import { ClickHouseTraceSchema, createSink } from "@tracehouse/clickhouse";
const make: typeof createSink = createSink;
console.log(JSON.stringify({ make: typeof make, schema: typeof ClickHouseTraceSchema }));`,
    exports: ["createSink", "ClickHouseTraceSchema"],
  },
  worker: {
    code: `import { createWorker } from "@tracehouse/worker";
const make: typeof createWorker = createWorker;
console.log(JSON.stringify({ make: typeof make }));`,
    exports: ["createWorker"],
  },
  receiver: {
    code: `import { createReceiver, resolveReceiverConfig, TRACES_PATH } from "@tracehouse/receiver";
const make: typeof createReceiver = createReceiver;
const path: string = TRACES_PATH;
console.log(JSON.stringify({ make: typeof make, resolve: typeof resolveReceiverConfig, path }));`,
    exports: ["createReceiver", "resolveReceiverConfig", "TRACES_PATH"],
  },
  ui: {
    code: `import { parseAuth, startUiServer, type UiServerOptions } from "@tracehouse/ui";
const start: (options: UiServerOptions) => unknown = startUiServer;
console.log(JSON.stringify({ start: typeof start, auth: typeof parseAuth }));`,
    exports: ["startUiServer", "parseAuth"],
  },
  cli: {
    code: `import { ExitCode, main } from "@tracehouse/cli";
const run: typeof main = main;
console.log(JSON.stringify({ run: typeof run, codes: typeof ExitCode }));`,
    exports: ["main", "ExitCode"],
  },
};

/** The probe with a first line printing the names the package exports. */
const withExportList = (name: PublicPackage): string =>
  `import * as all from "@tracehouse/${name}";\nconsole.log(JSON.stringify(Object.keys(all)));\n${probes[name].code}\n`;

/**
 * The catalogue's default topics, as an operator creates them before agents start (the
 * producer does not create topics); those that exist are left as they are.
 */
async function createDefaultTopics(brokers: readonly string[]): Promise<void> {
  const kafka = new Kafka({
    clientId: uniqueName("packaging"),
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = createTopicCatalogue().all.filter((spec) => !existing.has(spec.name));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((spec) => ({
        topic: spec.name,
        numPartitions: spec.partitions,
        replicationFactor: 1,
        configEntries: spec.configEntries.map((entry) => ({ ...entry })),
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

/** The records of `traceId` on `topic`, once `count` of them are there (or what there is after 30 s). */
async function recordsOfTrace(
  brokers: readonly string[],
  topic: string,
  traceId: string,
  count: number,
): Promise<DecodedRecord[]> {
  const kafka = new Kafka({
    clientId: uniqueName("packaging"),
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: uniqueName("packaging") });
  const found: DecodedRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          const decoded = decodeRecord(message.value);
          if ((decoded.record as { trace_id?: string }).trace_id !== traceId) return;
          found.push(decoded);
          if (found.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return found;
}

describe("packages as a user installs them: npm pack, then npm install outside the workspace", function () {
  this.timeout(300_000);
  let root: string;
  let tarballs: Tarballs;
  let brokers: readonly string[];
  const installs = new Map<string, Promise<string>>();

  /** Starts `npm install` of `install` in a new project named `name`; its directory when done. */
  function project(name: string, install: readonly string[]): Promise<string> {
    let pending = installs.get(name);
    if (pending === undefined) {
      const dir = join(root, name);
      pending = installProject(dir, install, tarballs).then(() => dir);
      pending.catch(() => undefined);
      installs.set(name, pending);
    }
    return pending;
  }

  const usingIt = readmeSnippet("README.md", "## Using it");
  const otel = readmeSnippet("packages/producer/README.md", "## OpenTelemetry");

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "tracehouse-packaging-"));
    brokers = (await useKafka()).brokers;
    await createDefaultTopics(brokers);
    tarballs = await packPackages(join(root, "tarballs"));
    // the installs are mostly waiting on the disk and the registry: all at once
    for (const name of PUBLIC_PACKAGES) void project(name, [`@tracehouse/${name}`]);
    void project("using-it", usingIt.install);
    void project("opentelemetry", otel.install);
  });

  after(async () => {
    await Promise.allSettled(installs.values());
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  // are-the-types-wrong, slower, runs in npm run check:packages
  it("packs every public package, and each passes publint", async () => {
    expect(Object.keys(tarballs).sort()).to.deep.equal(
      PUBLIC_PACKAGES.map((name) => `@tracehouse/${name}`).sort(),
    );
    for (const tarball of Object.values(tarballs)) await publint(tarball);
  });

  for (const name of PUBLIC_PACKAGES) {
    it(`installs @tracehouse/${name} on its own; its exports load in Node and type-check`, async () => {
      const dir = await project(name, [`@tracehouse/${name}`]);
      const probe = await compileAndRun(dir, "probe", withExportList(name));
      expect(probe.code, probe.stderr).to.equal(0);
      const [exported, used, extra] = probe.stdout.split("\n");
      expect(JSON.parse(exported as string)).to.include.members(probes[name].exports);
      expect(used).to.match(/^\{.*\}$/);
      expect(extra).to.equal("");
    });
  }

  it("installs the tracehouse command with @tracehouse/cli: it runs and lists its commands", async () => {
    const dir = await project("cli", ["@tracehouse/cli"]);
    const result = await run(join(dir, "node_modules", ".bin", "tracehouse"), ["--help"], {
      cwd: dir,
      timeoutMs: 60_000,
    });
    expect(result.code, result.stderr).to.equal(0);
    for (const command of ["worker", "receive", "ui", "topics", "migrate"]) {
      expect(result.stdout).to.include(command);
    }
  });

  it("depends on its sibling packages by semver range, not exact version", async () => {
    for (const name of PUBLIC_PACKAGES) {
      const dir = await project(name, [`@tracehouse/${name}`]);
      const manifest = JSON.parse(
        readFileSync(join(dir, "node_modules", "@tracehouse", name, "package.json"), "utf8"),
      ) as { dependencies?: Record<string, string> };
      for (const [dependency, range] of Object.entries(manifest.dependencies ?? {})) {
        if (dependency.startsWith("@tracehouse/")) expect(range, `${name} → ${dependency}`).to.match(/^\^\d/);
      }
    }
  });

  it("the README's install lines name every package their snippets import", () => {
    expect(usingIt.installed).to.include.members(usingIt.imports);
    expect(otel.installed).to.include.members(otel.imports);
  });

  it("runs the README's 'Using it' snippet: its executions reach Kafka", async () => {
    const dir = await project("using-it", usingIt.install);
    const code =
      replaceOnce(usingIt.code, `"127.0.0.1:19092"`, JSON.stringify(brokers[0])) +
      `console.log(JSON.stringify({ traceId: run.context.traceId }));\n`;
    const result = await compileAndRun(dir, "using-it", code);
    expect(result.code, result.stderr).to.equal(0);
    const { traceId } = JSON.parse(result.stdout.trim().split("\n").pop() as string) as { traceId: string };
    const records = await recordsOfTrace(brokers, "tracehouse.executions", traceId, 4);
    const agents = records.map((decoded) => (decoded.record as { agent_name?: string }).agent_name);
    expect(agents).to.include.members(["supervisor", "researcher"]);
    for (const decoded of records) expect((decoded.record as { user_id?: string }).user_id).to.equal("u-42");
  });

  it("runs the README's OpenTelemetry snippet: spans reach Kafka and an OTLP/HTTP endpoint", async () => {
    const received: Buffer[] = [];
    const collector = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        if (req.method === "POST" && req.url === "/v1/traces") received.push(Buffer.concat(chunks));
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    collector.listen(0, "127.0.0.1");
    await once(collector, "listening");
    try {
      const url = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
      const dir = await project("opentelemetry", otel.install);
      let code = replaceOnce(otel.code, `"kafka-1:9092"`, JSON.stringify(brokers[0]));
      code = replaceOnce(code, `"http://otel-collector:4318/v1/traces"`, JSON.stringify(url));
      code += [
        `const run = tracker.startExecution(undefined, { agentName: "otel-snippet", input: "hello" });`,
        `run.complete("done");`,
        `await tracer.shutdown();`,
        `await producer.close();`,
        `console.log(JSON.stringify({ traceId: run.context.traceId }));`,
        "",
      ].join("\n");
      const result = await compileAndRun(dir, "opentelemetry", code);
      expect(result.code, result.stderr).to.equal(0);
      const { traceId } = JSON.parse(result.stdout.trim().split("\n").pop() as string) as { traceId: string };
      // OTLP/HTTP protobuf: the trace id travels as its 16 bytes
      expect(Buffer.concat(received).includes(Buffer.from(traceId, "hex"))).to.equal(true);
      const spans = await recordsOfTrace(brokers, "tracehouse.spans", traceId, 1);
      expect(spans).to.have.length.at.least(1);
    } finally {
      collector.close();
    }
  });
});
