import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { currentSchemaVersion, schemaFingerprintOf } from "@tracehouse/schemas";
import { readTopicFor } from "@tracehouse/testkit";
import { expect } from "chai";
import { openPipeline, pollUntil } from "../src/harness/index.js";
import type { Pipeline } from "../src/harness/index.js";
import { writeNewerSchemas } from "../src/newer-writer/newer-schemas.js";

const AGENT = fileURLToPath(new URL("../src/newer-writer/agent.ts", import.meta.url));

interface AgentReport {
  readonly version: number;
  readonly fingerprint: string;
  readonly sent: number;
  readonly eventIds: readonly string[];
}

describe("newer writers, older readers", function () {
  this.timeout(180_000);
  let pipeline: Pipeline;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tracehouse-newer-"));
    pipeline = await openPipeline({ name: "newer", partitions: 1 });
  });
  after(async () => {
    await pipeline?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a producer writing with an execution schema the worker does not ship: the worker stores its records, dead-letters none", async () => {
    const newer = writeNewerSchemas(dir);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        "--import",
        "tsx",
        AGENT,
        newer.generatedUrl,
        pipeline.brokers.join(","),
        pipeline.catalogue.prefix,
        "5",
        newer.field,
      ],
      { encoding: "utf8" },
    );
    const report = JSON.parse(stdout.trim()) as AgentReport;
    expect(report.version, "the agent writes with a version this worker does not ship").to.equal(
      currentSchemaVersion("execution") + 1,
    );
    expect(report.fingerprint).to.not.equal(schemaFingerprintOf("execution"));
    expect(report.sent).to.equal(5);

    const table = `${pipeline.database}.agent_executions`;
    const ids = report.eventIds.map((id) => `'${id}'`).join(",");
    const rows = await pollUntil(
      async () => {
        const found = await pipeline.monitor.query<{
          event_id: string;
          execution_id: string;
          agent_name: string;
        }>(
          `SELECT event_id, execution_id, agent_name FROM ${table} FINAL WHERE event_id IN (${ids}) ORDER BY execution_id`,
        );
        return found.length === report.eventIds.length ? found : undefined;
      },
      { what: "the newer agent's executions in ClickHouse", timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(rows.map((row) => row.execution_id)).to.deep.equal(report.eventIds.map((_, i) => `newer-${i}`));
    expect(rows.every((row) => row.agent_name === "newer-agent")).to.equal(true);

    const schemas = await readTopicFor(pipeline.kafka, pipeline.catalogue.schemas);
    const published = schemas.find((message) => message.key?.toString() === report.fingerprint);
    expect(published, "the agent published its execution schema").to.not.equal(undefined);
    expect(JSON.parse(published!.value!.toString()).fields.at(-1).name).to.equal(newer.field);
    expect(await readTopicFor(pipeline.kafka, pipeline.catalogue.dlq, 500), "no dead letters").to.have.length(
      0,
    );
  });
});
