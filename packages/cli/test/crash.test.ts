import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { uniqueName, useKafka } from "@tracehouse/testkit";
import { expect } from "chai";
import type { Kafka } from "kafkajs";
import { RECORD_TABLES, TABLE_OF_RECORD_TYPE } from "@tracehouse/clickhouse";
import { runCli, spawnCli } from "./helpers/cli.js";
import { setupEnv, waitFor } from "../../worker/test/helpers/env.js";
import type { WorkerTestEnv } from "../../worker/test/helpers/env.js";
import { produceRecords, recordsOfEveryType } from "../../worker/test/helpers/records.js";
import type { TestRecord } from "../../worker/test/helpers/records.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Committed offsets of a group and the log ends, summed over the topics' partitions. */
async function groupProgress(kafka: Kafka, groupId: string, topics: readonly string[]) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let committed = 0;
    let end = 0;
    for (const entry of await admin.fetchOffsets({ groupId, topics: [...topics] })) {
      for (const partition of entry.partitions) committed += Math.max(0, Number(partition.offset));
    }
    for (const topic of topics) {
      for (const partition of await admin.fetchTopicOffsets(topic)) end += Number(partition.high);
    }
    return { committed, end };
  } finally {
    await admin.disconnect();
  }
}

describe("worker: killed (SIGKILL) in the middle of batches, repeatedly, while records are produced", function () {
  this.timeout(400_000);
  let env: WorkerTestEnv;
  let dataDir: string;

  before(async () => {
    env = await setupEnv({ partitions: 3 });
    dataDir = mkdtempSync(join(tmpdir(), "tracehouse-crash-"));
  });
  after(async () => {
    await env?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("ends with exactly the produced event ids in every table: none lost, none duplicated", async () => {
    const brokers = (await useKafka()).brokers.join(",");
    const database = "th_crash";
    const common = ["--data-dir", dataDir, "--database", database];
    const migrated = await runCli(["migrate", "--ttl-days", "none", ...common]);
    expect(migrated.code, migrated.stderr).to.equal(0);
    const groupId = uniqueName("crash");
    const workerArgs = [
      "worker",
      "--brokers",
      brokers,
      "--group-id",
      groupId,
      "--topics",
      env.topicList.join(","),
      "--dead-letter-topic",
      env.dlq,
      "--no-migrate",
      "--flush-interval-ms",
      "500",
      "--max-batch-rows",
      "1000",
      "--session-timeout-ms",
      "6000",
      "--heartbeat-interval-ms",
      "500",
      "--health-port",
      "off",
      ...common,
    ];

    const produced: TestRecord[] = [];
    let producing = true;
    const producer = (async () => {
      for (let round = 0; producing; round++) {
        const batch = recordsOfEveryType(40, round * 40);
        await produceRecords(env.kafka, env.topics, batch);
        produced.push(...batch);
        await sleep(100);
      }
    })();

    const progress: { committed: number; end: number }[] = [];
    for (let kill = 0; kill < 5; kill++) {
      const worker = spawnCli(workerArgs);
      await worker.logLine("worker started");
      await sleep(500 + Math.floor(Math.random() * 2000));
      worker.child.kill("SIGKILL");
      const exit = await worker.exited;
      expect(exit.signal).to.equal("SIGKILL");
      const state = await groupProgress(env.kafka, groupId, env.topicList);
      progress.push(state);
      expect(state.committed, `kill ${kill}: records were still in flight`).to.be.below(state.end);
    }
    producing = false;
    await producer;
    expect(progress.map((state) => state.committed)).to.satisfy((committed: number[]) =>
      committed.every((value, i) => i === 0 || value >= committed[i - 1]!),
    );
    expect(progress[progress.length - 1]!.committed).to.be.greaterThan(progress[0]!.committed);

    const last = spawnCli(workerArgs);
    await last.logLine("worker started");
    await waitFor(
      async () => {
        const { committed, end } = await groupProgress(env.kafka, groupId, env.topicList);
        return end === produced.length && committed === end;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: "the group to commit every produced record" },
    );
    last.child.kill("SIGTERM");
    const stopped = await last.exited;
    expect(stopped.code, stopped.stderr).to.equal(0);
    expect(stopped.stderr).to.include("flushed and committed; leaving the group");

    const expected = new Map<string, string[]>(RECORD_TABLES.map((table) => [table, []]));
    for (const item of produced) expected.get(TABLE_OF_RECORD_TYPE[item.type])!.push(item.record.event_id);
    let rawRows = 0;
    for (const table of RECORD_TABLES) {
      const query = await runCli([
        "query",
        `SELECT event_id FROM ${database}.${table} FINAL ORDER BY event_id`,
        ...common,
      ]);
      expect(query.code, query.stderr).to.equal(0);
      const ids = query.stdout
        .trim()
        .split("\n")
        .map((line) => (JSON.parse(line) as { event_id: string }).event_id);
      expect(ids.length, `${table}: rows in FINAL`).to.equal(new Set(ids).size);
      const want = new Set(expected.get(table));
      const got = new Set(ids);
      const missing = [...want].filter((id) => !got.has(id));
      const extra = ids.filter((id) => !want.has(id));
      expect({ missing, extra }, `${table}: ${got.size} rows for ${want.size} records`).to.deep.equal({
        missing: [],
        extra: [],
      });
      const raw = await runCli(["query", `SELECT count() AS n FROM ${database}.${table}`, ...common]);
      rawRows += (JSON.parse(raw.stdout) as { n: number }).n;
    }
    console.log(
      `      ${produced.length} records, ${progress.length} kills (committed/produced after each: ` +
        `${progress.map((state) => `${state.committed}/${state.end}`).join(", ")}), ` +
        `${rawRows - produced.length} rows written twice before merges (hidden by FINAL)`,
    );
  });
});
