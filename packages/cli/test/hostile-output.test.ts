import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TraceContext } from "@tracehouse/context";
import { RecordType } from "@tracehouse/schemas";
import { useKafka } from "@tracehouse/testkit";
import { expect } from "chai";
import { setupEnv } from "../../worker/test/helpers/env.js";
import type { WorkerTestEnv } from "../../worker/test/helpers/env.js";
import { produceRecords, sampleRecord } from "../../worker/test/helpers/records.js";
import type { TestRecord } from "../../worker/test/helpers/records.js";
import { escapeControl } from "../src/terminal-text.js";
import { runCli, spawnCli } from "./helpers/cli.js";

/** Anything a terminal would act on: C0 controls but the line feed, DEL, C1 controls, bidi overrides. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const HOSTILE_USER = "mallory\u001b]0;owned\u0007\u001b[2J";
const HOSTILE_AGENT = "agent\u001b[31mRED\u009b0m\u202e";
const HOSTILE_ERROR = "boom\u0007\nFORGED line from the record\r\u0085";

describe("tracehouse: hostile text and read-only queries", function () {
  this.timeout(240_000);
  let env: WorkerTestEnv;
  let dataDir: string;
  let brokers: string;
  const database = "th_hostile";
  const context = TraceContext.create({ userId: HOSTILE_USER });
  const common = (): string[] => ["--data-dir", dataDir, "--database", database, "--log-level", "warn"];

  before(async () => {
    brokers = (await useKafka()).brokers.join(",");
    env = await setupEnv({ partitions: 1 });
    dataDir = mkdtempSync(join(tmpdir(), "tracehouse-hostile-"));
    const t0 = Date.UTC(2025, 0, 15, 12) * 1000;
    const items: TestRecord[] = [
      {
        type: RecordType.Execution,
        context,
        record: {
          ...sampleRecord(RecordType.Execution, context, 0),
          event_time: t0,
          user_id: HOSTILE_USER,
          agent_name: HOSTILE_AGENT,
          execution_id: "exec-1",
          parent_execution_id: null,
          lifecycle: "FAILED",
          error_message: HOSTILE_ERROR,
        } as never,
      },
      {
        type: RecordType.Error,
        context,
        record: {
          ...sampleRecord(RecordType.Error, context, 1),
          event_time: t0 + 1000,
          user_id: HOSTILE_USER,
          execution_id: "exec-1",
          message: HOSTILE_ERROR,
          error_class: "Evil\u001b[5m",
        } as never,
      },
    ];
    await produceRecords(env.kafka, env.topics, items);
    const migrate = await runCli(["migrate", "--ttl-days", "none", ...common()]);
    expect(migrate.code, migrate.stderr).to.equal(0);
    const replay = await runCli([
      "replay",
      "--from",
      "earliest",
      "--topics",
      env.topicList.join(","),
      "--dead-letter-topic",
      env.dlq,
      "--brokers",
      brokers,
      "--ttl-days",
      "none",
      ...common(),
    ]);
    expect(replay.code, replay.stderr).to.equal(0);
  });
  after(async () => {
    await env?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("escapes control characters in the trace tree, its JSON, stats, verify and error messages", async () => {
    const tree = await runCli(["trace", context.traceId, ...common()]);
    expect(tree.code, tree.stderr).to.equal(0);
    expect(tree.stdout).to.not.match(RAW_CONTROL);
    expect(tree.stdout).to.include("mallory\\x1b]0;owned\\x07\\x1b[2J");
    expect(tree.stdout).to.include("agent\\x1b[31mRED\\x9b0m\\u202e");
    expect(tree.stdout.split("\n").some((line) => line.startsWith("FORGED"))).to.equal(false);
    const json = await runCli(["trace", context.traceId, "--json", ...common()]);
    expect(json.stdout).to.not.match(RAW_CONTROL);
    expect(JSON.stringify(JSON.parse(json.stdout))).to.include(JSON.stringify(HOSTILE_AGENT).slice(1, -1));
    for (const command of ["stats", "verify"]) {
      const result = await runCli([command, ...common()]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.not.match(RAW_CONTROL);
    }
    const missing = await runCli(["trace", "\u001b[2Jnope\u0007", ...common()]);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.include("\\x1b[2Jnope\\x07").and.not.match(RAW_CONTROL);
    const failing = await runCli(["query", "SELECT throwIf(1, 'bad\\x1b[31m\\x07')", ...common()]);
    expect(failing.code).to.equal(1);
    expect(failing.stderr).to.include("bad\\x1b[31m\\x07").and.not.match(RAW_CONTROL);
    expect(escapeControl("a\u0085b\u009bc\u007f")).to.equal("a\\x85b\\x9bc\\x7f");
  });

  it("query is read-only by default: file(), INSERT INTO FUNCTION, DDL and TRUNCATE fail with a clear error", async () => {
    const target = join(dataDir, "leak.csv");
    for (const sql of [
      "SELECT * FROM file('/etc/passwd', 'LineAsString')",
      `INSERT INTO FUNCTION file('${target}', 'CSV') SELECT 1`,
      `CREATE TABLE ${database}.evil (x Int8) ENGINE = Memory`,
      `TRUNCATE TABLE ${database}.agent_executions`,
      `/* hidden */ DROP DATABASE ${database}`,
      // Starts as a SELECT: the engine's readonly=1 refuses the second statement.
      `SELECT 1; DROP TABLE ${database}.agent_executions`,
    ]) {
      const result = await runCli(["query", sql, ...common()]);
      expect(result.code, sql).to.equal(1);
      expect(result.stderr, sql).to.match(/ReadOnlyQueryError \(QUERY\): .*read-only; pass --write/);
    }
    expect(existsSync(target)).to.equal(false);
    const count = await runCli([
      "query",
      `SELECT count() AS n FROM ${database}.agent_executions`,
      ...common(),
    ]);
    expect(count.code, count.stderr).to.equal(0);
    expect(count.stdout.trim()).to.equal('{"n":1}');
    const settings = await runCli([
      "query",
      "SELECT getSetting('readonly') AS readonly, getSetting('max_execution_time') AS limit",
      ...common(),
    ]);
    expect(JSON.parse(settings.stdout)).to.deep.equal({ readonly: 1, limit: 60 });
  });

  it("--write runs the rest; --max-execution-time bounds a statement", async () => {
    const created = await runCli([
      "query",
      "--write",
      `CREATE TABLE ${database}.scratch (x Int8) ENGINE = Memory`,
      ...common(),
    ]);
    expect(created.code, created.stderr).to.equal(0);
    const started = Date.now();
    const slow = await runCli([
      "query",
      "--max-execution-time",
      "1",
      "SELECT count() FROM numbers_mt(1e12) WHERE sipHash64(number) = 1",
      ...common(),
    ]);
    expect(slow.code).to.equal(1);
    expect(slow.stderr).to.match(/TIMEOUT_EXCEEDED|Timeout exceeded/);
    expect(Date.now() - started).to.be.below(30_000);
  });

  it("stops quietly when its reader closes the pipe early (`tracehouse --help | head -1`)", async () => {
    const cli = spawnCli(["--help"]);
    cli.child.stdout!.destroy();
    const result = await cli.exited;
    expect([result.code, result.stderr]).to.deep.equal([0, ""]);
  });
});
