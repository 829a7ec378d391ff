import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TraceContext } from "@tracehouse/context";
import { ConfigError, RecordType } from "@tracehouse/schemas";
import { useKafka } from "@tracehouse/testkit";
import { expect } from "chai";
import { WORKER_DEFAULTS, createWorker } from "@tracehouse/worker";
import { runCli, spawnCli } from "./helpers/cli.js";
import { setupEnv } from "../../worker/test/helpers/env.js";
import type { WorkerTestEnv } from "../../worker/test/helpers/env.js";
import { produceRecords, sampleRecord } from "../../worker/test/helpers/records.js";
import type { TestRecord } from "../../worker/test/helpers/records.js";

const kebab = (name: string): string => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** The flag of each worker option (two are switches that turn a default off). */
const FLAG_OF_OPTION: Record<string, string> = {
  ...Object.fromEntries(Object.keys(WORKER_DEFAULTS).map((key) => [key, `--${kebab(key)}`])),
  fromBeginning: "--no-from-beginning",
  createTables: "--no-migrate",
};

/** A small trace: a planner execution that starts a researcher sub-agent, with events, an error, metrics and a span. */
function sampleTrace(): { traceId: string; items: TestRecord[] } {
  const root = TraceContext.create({ userId: "user-cli" });
  const child = root.child();
  const items: TestRecord[] = [];
  const add = (
    type: RecordType,
    context: TraceContext,
    i: number,
    changes: Record<string, unknown>,
  ): void => {
    items.push({ type, context, record: { ...sampleRecord(type, context, i), ...changes } as never });
  };
  const t0 = Date.UTC(2025, 0, 15, 12, 0, 0) * 1000;
  add(RecordType.Execution, root, 0, {
    event_time: t0,
    execution_id: "exec-root",
    agent_name: "planner",
    lifecycle: "STARTED",
    status: "running",
    parent_execution_id: null,
    duration_ms: null,
    result_summary: null,
    error_message: null,
  });
  add(RecordType.Execution, root, 0, {
    event_time: t0 + 900_000,
    execution_id: "exec-root",
    agent_name: "planner",
    lifecycle: "COMPLETED",
    status: "completed",
    parent_execution_id: null,
    duration_ms: 900,
    error_message: null,
  });
  add(RecordType.Execution, child, 1, {
    event_time: t0 + 100_000,
    execution_id: "exec-child",
    agent_name: "researcher",
    lifecycle: "FAILED",
    status: "failed",
    parent_execution_id: "exec-root",
    duration_ms: 400,
    error_message: "search backend down",
  });
  add(RecordType.Correlation, root, 0, {
    event_time: t0 + 100_000,
    execution_id: "exec-root",
    agent_name: "planner",
    parent_execution_id: "exec-root",
    child_execution_id: "exec-child",
    child_span_id: child.spanId,
    child_agent_name: "researcher",
  });
  add(RecordType.Event, child, 1, {
    event_time: t0 + 150_000,
    execution_id: "exec-child",
    agent_name: "researcher",
    name: "web_search",
  });
  add(RecordType.Error, child, 1, {
    event_time: t0 + 450_000,
    execution_id: "exec-child",
    agent_name: "researcher",
    error_class: "BackendDown",
  });
  add(RecordType.Metrics, root, 0, {
    event_time: t0 + 900_000,
    execution_id: "exec-root",
    agent_name: "planner",
  });
  add(RecordType.Span, root, 0, {
    event_time: t0 + 900_000,
    execution_id: "exec-root",
    agent_name: "planner",
    name: "plan",
    start_time: t0,
    end_time: t0 + 900_000,
  });
  return { traceId: root.traceId, items };
}

describe("tracehouse CLI", function () {
  this.timeout(180_000);

  it("--help lists every command, and worker --help a flag and an environment variable for every option", async () => {
    const top = await runCli(["--help"]);
    expect(top.code).to.equal(0);
    for (const command of [
      "worker",
      "replay",
      "rebuild",
      "migrate",
      "verify",
      "stats",
      "trace",
      "query",
      "ui",
    ]) {
      expect(top.stdout).to.match(new RegExp(`^  ${command}\\b`, "m"));
    }
    const help = await runCli(["worker", "--help"]);
    expect(help.code).to.equal(0);
    const text = help.stdout.replace(/\s+/g, " ");
    for (const [option, flag] of Object.entries(FLAG_OF_OPTION)) {
      expect(help.stdout, `${option} → ${flag}`).to.include(`${flag} `);
      const envName =
        option === "brokers"
          ? "KAFKA_BROKERS"
          : `TRACEHOUSE_${flag.slice(2).replace(/-/g, "_").toUpperCase()}`;
      expect(text, `${flag} env`).to.include(`env: ${envName}`);
    }
    for (const flag of [
      "--ui-port",
      "--ui-host",
      "--ui-auth",
      "--prices",
      "--clickhouse-url",
      "--clickhouse-user",
      "--clickhouse-password-file",
      "--clickhouse-ca-file",
      "--kafka-sasl-password-file",
      "--data-dir",
      "--database",
      "--log-level",
    ]) {
      expect(help.stdout).to.include(flag);
    }
    const replayHelp = await runCli(["replay", "--help"]);
    for (const flag of [
      "--from <position>",
      "--to <position>",
      "--topics",
      "--tables",
      "--progress",
      "--group-id",
    ]) {
      expect(replayHelp.stdout).to.include(flag);
    }
  });

  it("rejects bad configuration with exit code 2 and a configuration error, before connecting anywhere", async () => {
    const cases: [string[], RegExp][] = [
      [["worker", "--max-batch-rows", "lots"], /configuration error: --max-batch-rows: expected an integer/],
      [["worker", "--tables", "agent_events,nope"], /configuration error: tables: unknown table "nope"/],
      [
        ["worker", "--heartbeat-interval-ms", "20000"],
        /configuration error: heartbeatIntervalMs \(20000\) must be below/,
      ],
      [
        ["worker", "--max-dead-letter-ratio", "2"],
        /configuration error: --max-dead-letter-ratio: must be at most 1, got 2/,
      ],
      [["worker", "--brokers", "nohostport"], /configuration error: brokers: "nohostport" is not host:port/],
      [
        ["worker", "--clickhouse-url", "http://localhost:8123", "--data-dir", "/tmp/x"],
        /either --clickhouse-url or --data-dir/,
      ],
      [["replay", "--from", "yesterday"], /configuration error: --from: "yesterday" is not/],
      [["replay"], /required option '--from <position>' not specified/],
      [["worker", "--bogus"], /unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, { KAFKA_BROKERS: "127.0.0.1:1" });
      expect(result.code, args.join(" ")).to.equal(2);
      expect(result.stderr, args.join(" ")).to.match(message);
    }
    const fromEnv = await runCli(["worker"], {
      TRACEHOUSE_MAX_BATCH_ROWS: "0",
      KAFKA_BROKERS: "127.0.0.1:1",
    });
    expect(fromEnv.code).to.equal(2);
    expect(fromEnv.stderr).to.match(
      /configuration error: TRACEHOUSE_MAX_BATCH_ROWS: must be at least 1, got 0/,
    );
  });

  it("createWorker throws ConfigError for invalid or contradictory options", () => {
    const bad: Record<string, unknown>[] = [
      { maxBatchRows: 0 },
      { maxBatchBytes: 100, maxBufferedBytes: 10 },
      { retryBaseDelayMs: 100, retryMaxDelayMs: 10 },
      { tables: [] },
      { tables: ["nope"] },
      { topics: ["a"], deadLetterTopic: "a" },
      { sessionTimeoutMs: 1000, heartbeatIntervalMs: 1000 },
      { healthPort: 70_000 },
      { clickhouse: { url: "http://h:8123", dataDir: "/tmp/x" } },
      { clickhouse: { url: "ftp://h" } },
    ];
    for (const options of bad) {
      expect(() => createWorker(options), JSON.stringify(options)).to.throw(ConfigError);
    }
  });

  describe("on an embedded data directory", () => {
    let env: WorkerTestEnv;
    let dataDir: string;
    let brokers: string;
    const database = "th_cli";
    let trace: ReturnType<typeof sampleTrace>;
    const common = (): string[] => ["--data-dir", dataDir, "--database", database, "--log-level", "warn"];
    // The sample records are from January 2025: older than the default TTL.
    const noTtl = ["--ttl-days", "none"];

    before(async () => {
      brokers = (await useKafka()).brokers.join(",");
      env = await setupEnv({ partitions: 2 });
      dataDir = mkdtempSync(join(tmpdir(), "tracehouse-cli-"));
      trace = sampleTrace();
      await produceRecords(env.kafka, env.topics, trace.items);
    });
    after(async () => {
      await env?.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it("migrate creates the tables, verify finds them complete", async () => {
      const migrate = await runCli(["migrate", "--json", ...noTtl, ...common()]);
      expect(migrate.code, migrate.stderr).to.equal(0);
      const report = JSON.parse(migrate.stdout) as { database: string; applied: number[] };
      expect(report.database).to.equal(database);
      expect(report.applied.length).to.be.greaterThan(0);
      const again = await runCli(["migrate", "--json", ...noTtl, ...common()]);
      expect((JSON.parse(again.stdout) as { applied: number[] }).applied).to.deep.equal([]);
      const verify = await runCli(["verify", ...common()]);
      expect(verify.code, verify.stderr).to.equal(0);
      expect(verify.stdout).to.include(`schema of ${database} is complete`);
    });

    it("replay writes the topics, with log-line progress off a terminal; stats, trace and query read them back", async () => {
      const replayed = await runCli([
        "replay",
        "--from",
        "earliest",
        "--topics",
        env.topicList.join(","),
        "--dead-letter-topic",
        env.dlq,
        "--brokers",
        brokers,
        "--json",
        ...noTtl,
        ...common().slice(0, 4),
        "--log-level",
        "info",
      ]);
      expect(replayed.code, replayed.stderr).to.equal(0);
      const result = JSON.parse(replayed.stdout) as { written: number; records: number };
      expect(result).to.include({ records: trace.items.length, written: trace.items.length });
      expect(replayed.stderr).to.match(/"records":8,"total":8,"percent":100[^\n]*"msg":"replay progress"/);

      const stats = await runCli(["stats", "--json", ...common()]);
      expect(stats.code, stats.stderr).to.equal(0);
      const parsed = JSON.parse(stats.stdout) as { records: Record<string, number> };
      expect(parsed.records).to.deep.equal({
        agent_executions: 3,
        agent_events: 1,
        performance_metrics: 1,
        trace_correlations: 1,
        error_logs: 1,
        spans: 1,
      });

      const tree = await runCli(["trace", trace.traceId, ...common()]);
      expect(tree.code, tree.stderr).to.equal(0);
      const lines = tree.stdout.split("\n");
      expect(lines[0]).to.equal(`trace ${trace.traceId}  ✗ has errors`);
      expect(lines[1]).to.include("2025-01-15 12:00:00.000 UTC · 900 ms · 2 executions");
      const planner = lines.findIndex((line) => line.includes("● planner  exec-root  COMPLETED"));
      const researcher = lines.findIndex((line) =>
        line.includes("✗ researcher  exec-child  SUBAGENT  FAILED"),
      );
      expect(planner).to.be.greaterThan(1);
      expect(researcher).to.be.greaterThan(planner);
      expect(lines[researcher]).to.match(/^\s+├─ \+100 ms/);
      expect(tree.stdout).to.match(/│ {2}├─ \+150 ms\s+event\s+TOOL_CALL_END web_search ok 14 ms/);
      expect(tree.stdout).to.match(
        /└─ \+900 ms\s+metrics\s+total 330 ms · init 2 ms · tools 20 ms · llm 300 ms/,
      );
      expect(tree.stdout).to.match(/\+450 ms\s+error\s+✗ BackendDown \(ETIMEDOUT\)/);
      expect(tree.stdout).to.include("error: search backend down");
      expect(tree.stdout).to.match(/span\s+plan CLIENT 900 ms OK/);
      // the sample's metrics carry tokens but no LLM call names a model: tokens, never a cost
      expect(lines[2]).to.match(/^tokens [\d,]+ in \/ [\d,]+ out · [\d,]+ tokens without a price$/);

      const json = await runCli(["trace", trace.traceId, "--json", ...common()]);
      const parsedTree = JSON.parse(json.stdout) as { summary: { traceId: string; executionCount: number } };
      expect(parsedTree.summary).to.include({ traceId: trace.traceId, executionCount: 2 });

      const missing = await runCli(["trace", "0".repeat(31) + "1", ...common()]);
      expect(missing.code).to.equal(1);
      expect(missing.stderr).to.include("not found");

      // tracehouse ui serves the same data over HTTP until SIGINT
      const ui = spawnCli(["ui", "--ui-port", "0", ...common()]);
      const deadline = Date.now() + 60_000;
      while (!/http:\/\/\S+\/traces/.test(ui.stdout()) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      const base = /(http:\/\/\S+)\/traces/.exec(ui.stdout())?.[1];
      expect(base, ui.stderr()).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      const api = await fetch(`${base}/api/traces/${trace.traceId}`);
      expect(api.status).to.equal(200);
      expect(((await api.json()) as { summary: { traceId: string } }).summary.traceId).to.equal(
        trace.traceId,
      );
      ui.child.kill("SIGINT");
      expect((await ui.exited).code).to.equal(0);

      const query = await runCli([
        "query",
        `SELECT count() AS n FROM ${database}.agent_executions`,
        ...common(),
      ]);
      expect(query.stdout.trim()).to.equal('{"n":3}');
    });
  });
});
