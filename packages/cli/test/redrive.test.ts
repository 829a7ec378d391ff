import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useKafka } from "@tracehouse/testkit";
import { DeadLetterHeader } from "@tracehouse/worker";
import { expect } from "chai";
import type { Message } from "kafkajs";
import { runCli } from "./helpers/cli.js";
import { readTopic, setupEnv } from "../../worker/test/helpers/env.js";
import type { WorkerTestEnv } from "../../worker/test/helpers/env.js";
import { newerExecution, newerExecutionSchema } from "../../worker/test/helpers/newer-writer.js";
import { produceRaw } from "../../worker/test/helpers/records.js";

/** A dead letter as the worker writes it: the original message plus the reason headers. */
function deadLetter(original: Message, reason: string, topic: string, offset: number): Message {
  return {
    key: original.key ?? null,
    value: original.value ?? null,
    headers: {
      ...(original.headers ?? {}),
      [DeadLetterHeader.Reason]: reason,
      [DeadLetterHeader.Error]: reason,
      [DeadLetterHeader.Topic]: topic,
      [DeadLetterHeader.Partition]: "0",
      [DeadLetterHeader.Offset]: String(offset),
      [DeadLetterHeader.Time]: new Date().toISOString(),
      [DeadLetterHeader.Value]: "original",
    },
  };
}

describe("tracehouse redrive", function () {
  this.timeout(180_000);
  let env: WorkerTestEnv;
  let dataDir: string;
  let brokers: string;
  let schemasTopic: string;
  const database = "th_redrive";

  before(async () => {
    brokers = (await useKafka()).brokers.join(",");
    env = await setupEnv({ partitions: 1 });
    schemasTopic = await env.admin.create("cli_schemas", {
      configEntries: [{ name: "cleanup.policy", value: "compact" }],
    });
    dataDir = mkdtempSync(join(tmpdir(), "tracehouse-redrive-"));
  });
  after(async () => {
    await env?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("is listed, and rejects an unknown reason or time before connecting anywhere", async () => {
    const top = await runCli(["--help"]);
    expect(top.stdout).to.match(/^ {2}redrive\b/m);
    const help = await runCli(["redrive", "--help"]);
    for (const flag of [
      "--reason <list>",
      "--since <time>",
      "--until <time>",
      "--schemas-topic",
      "--progress",
    ])
      expect(help.stdout).to.include(flag);
    const cases: [string[], RegExp][] = [
      [["redrive", "--reason", "unknown_fingerprint,nope"], /--reason: "nope" is not one of/],
      [["redrive", "--since", "yesterday"], /--since: "yesterday" is not a duration ago/],
      [["redrive", "--until", "earliest"], /--until: "earliest" is not a duration ago/],
      [["redrive", "--since", "1h", "--until", "2h"], /time range is empty/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, { KAFKA_BROKERS: "127.0.0.1:1" });
      expect(result.code, args.join(" ")).to.equal(2);
      expect(result.stderr, args.join(" ")).to.match(message);
    }
  });

  it("writes the records of unknown-fingerprint dead letters once their schema is published, and nothing new the second time", async () => {
    const newer = newerExecutionSchema("gpu_seconds");
    const records = [newerExecution(newer.fingerprint, 1), newerExecution(newer.fingerprint, 2)];
    await produceRaw(env.kafka, env.dlq, [
      ...records.map((r, i) => deadLetter(r.message, "unknown_fingerprint", env.topics.execution, i)),
      deadLetter({ key: "k", value: Buffer.from("garbage") }, "bad_marker", env.topics.execution, 9),
    ]);
    await produceRaw(env.kafka, schemasTopic, [{ key: newer.fingerprint, value: newer.json }]);
    const args = [
      "redrive",
      "--reason",
      "unknown_fingerprint",
      "--since",
      "1h",
      "--brokers",
      brokers,
      "--dead-letter-topic",
      env.dlq,
      "--schemas-topic",
      schemasTopic,
      "--ttl-days",
      "none",
      "--data-dir",
      dataDir,
      "--database",
      database,
      "--log-level",
      "info",
    ];
    const first = await runCli(args);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.match(
      /^redrove 3 dead letters in [\d.]+ s: 2 written, 0 still dead, 1 skipped\n$/,
    );
    expect(first.stderr).to.match(/"records":3,"total":3,"percent":100[^\n]*"msg":"redrive progress"/);

    const second = await runCli([...args, "--json", "--reason", "unknown_fingerprint,bad_marker"]);
    expect(second.code, second.stderr).to.equal(0);
    expect(JSON.parse(second.stdout)).to.deep.include({ read: 3, written: 2, stillDead: 1, skipped: 0 });

    const query = async (sql: string): Promise<unknown[]> => {
      const result = await runCli(["query", sql, "--data-dir", dataDir, "--database", database]);
      expect(result.code, result.stderr).to.equal(0);
      return result.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as unknown);
    };
    const table = `${database}.agent_executions`;
    expect(await query(`SELECT event_id FROM ${table} FINAL ORDER BY event_id`)).to.deep.equal(
      records.map((r) => ({ event_id: r.eventId })).sort((a, b) => a.event_id.localeCompare(b.event_id)),
    );
    expect(await query(`SELECT toUInt32(count()) AS n FROM ${table}`), "no row inserted twice").to.deep.equal(
      [{ n: 2 }],
    );
    expect(await readTopic(env.kafka, env.dlq, 4, 1500), "no dead letter added").to.have.length(3);
  });
});
