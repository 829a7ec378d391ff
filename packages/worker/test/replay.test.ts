import { ClickHouseTraceSchema, RECORD_TABLES, TABLE_OF_RECORD_TYPE } from "@tracehouse/clickhouse";
import type { Sink } from "@tracehouse/clickhouse";
import { uniqueName, useKafka } from "@tracehouse/testkit";
import { expect } from "chai";
import { parseReplayPosition, rebuild, replay } from "../src/index.js";
import type { ReplayProgress } from "../src/index.js";
import { countRows, eventIds, processSink, setupEnv } from "./helpers/env.js";
import type { WorkerTestEnv } from "./helpers/env.js";
import { produceRecords, recordsOfEveryType } from "./helpers/records.js";
import type { TestRecord } from "./helpers/records.js";

async function freshDatabase(): Promise<Sink> {
  const sink = processSink(uniqueName("replay"));
  await new ClickHouseTraceSchema(sink, { ttlDays: null }).createTables();
  return sink;
}

/** Everything a reader could see: every row of every table, raw counts, and the derived aggregates. */
async function snapshot(sink: Sink): Promise<Record<string, unknown>> {
  const db = sink.database;
  const out: Record<string, unknown> = {};
  for (const table of RECORD_TABLES) {
    out[`${table}.rows`] = await sink.query(`SELECT * FROM ${db}.${table} FINAL ORDER BY event_id`);
    out[`${table}.count`] = await countRows(sink, table, false);
  }
  out.traces = await sink.query(
    `SELECT trace_id, span_count, execution_count, event_count, error_count FROM ${db}.traces ORDER BY trace_id`,
  );
  out.errors = await sink.query(
    `SELECT hour, agent_name, error_class, errors, traces FROM ${db}.error_summary_hourly ORDER BY hour, agent_name, error_class`,
  );
  out.agents = await sink.query(
    `SELECT agent_name, hour, started, finished, failures FROM ${db}.agent_stats_hourly ORDER BY agent_name, hour`,
  );
  return out;
}

function idsByTable(items: readonly TestRecord[]): Record<string, string[]> {
  const out: Record<string, string[]> = Object.fromEntries(RECORD_TABLES.map((table) => [table, []]));
  for (const item of items) out[TABLE_OF_RECORD_TYPE[item.type]]!.push(item.record.event_id);
  for (const ids of Object.values(out)) ids.sort();
  return out;
}

describe("replay and rebuild", function () {
  this.timeout(180_000);
  let env: WorkerTestEnv;
  let brokers: string[];
  let early: TestRecord[];
  let late: TestRecord[];
  let sinceMs: number;

  before(async () => {
    brokers = [...(await useKafka()).brokers];
    env = await setupEnv({ partitions: 3 });
    early = recordsOfEveryType(25);
    await produceRecords(env.kafka, env.topics, early);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    sinceMs = Date.now();
    late = recordsOfEveryType(40, 25);
    await produceRecords(env.kafka, env.topics, late);
  });
  after(async () => env?.cleanup());

  const base = () => ({ brokers, topics: env.topicList, deadLetterTopic: env.dlq, progressIntervalMs: 50 });

  it("replays a time range twice: the second run changes no row, count or aggregate", async () => {
    const sink = await freshDatabase();
    try {
      const progress: ReplayProgress[] = [];
      const first = await replay({
        ...base(),
        sink,
        from: { timeMs: sinceMs },
        onProgress: (p) => progress.push(p),
      });
      expect(first.records).to.equal(late.length);
      expect(first.written).to.equal(late.length);
      expect(first.deadLettered).to.equal(0);
      const expected = idsByTable(late);
      for (const table of RECORD_TABLES)
        expect(await eventIds(sink, table), table).to.deep.equal(expected[table]);
      const before = await snapshot(sink);

      const second = await replay({ ...base(), sink, from: { timeMs: sinceMs } });
      expect(second.groupId).to.not.equal(first.groupId);
      expect(second.written).to.equal(late.length);
      expect(await snapshot(sink)).to.deep.equal(before);

      const last = progress[progress.length - 1]!;
      expect(last).to.include({ records: late.length, total: late.length, etaSeconds: 0 });
      expect(last.partitionsDone).to.equal(last.partitions);
      for (let i = 1; i < progress.length; i++)
        expect(progress[i]!.records).to.be.at.least(progress[i - 1]!.records);
    } finally {
      await sink.command(`DROP DATABASE ${sink.database} SYNC`);
      await sink.close();
    }
  });

  it("replays an offset range of selected tables only, counting the other records as skipped", async () => {
    const sink = await freshDatabase();
    try {
      const result = await replay({
        ...base(),
        sink,
        from: { earliest: true },
        tables: ["agent_events", "spans"],
      });
      const all = [...early, ...late];
      expect(result.records).to.equal(all.length);
      expect(result.written).to.equal(all.length / 3);
      expect(result.skipped).to.equal((all.length * 2) / 3);
      const expected = idsByTable(all);
      for (const table of RECORD_TABLES) {
        const wanted = table === "agent_events" || table === "spans" ? expected[table] : [];
        expect(await eventIds(sink, table), table).to.deep.equal(wanted);
      }
    } finally {
      await sink.command(`DROP DATABASE ${sink.database} SYNC`);
      await sink.close();
    }
  });

  it("rebuilds a table: truncates it and replays its records from the earliest", async () => {
    const sink = await freshDatabase();
    try {
      await replay({ ...base(), sink, from: { timeMs: sinceMs } });
      await sink.command(
        `ALTER TABLE ${sink.database}.agent_events DELETE WHERE 1 SETTINGS mutations_sync = 2`,
      );
      await sink.insert("agent_events", [
        {
          event_id: "stale",
          event_time: 0,
          trace_id: "t",
          span_id: "s",
          event_kind: "CUSTOM",
          name: "stale",
        },
      ]);
      const result = await rebuild("agent_events", { ...base(), sink });
      const all = [...early, ...late];
      expect(result.written).to.equal(all.length / 6);
      expect(await eventIds(sink, "agent_events")).to.deep.equal(idsByTable(all)["agent_events"]);
      expect(await eventIds(sink, "spans")).to.deep.equal(idsByTable(late)["spans"]);
    } finally {
      await sink.command(`DROP DATABASE ${sink.database} SYNC`);
      await sink.close();
    }
  });

  it("parses replay positions: offsets, log ends, durations ago and ISO times", () => {
    const now = Date.UTC(2025, 0, 15, 12, 0, 0);
    expect(parseReplayPosition("1200", now)).to.deep.equal({ offset: 1200 });
    expect(parseReplayPosition("earliest", now)).to.deep.equal({ earliest: true });
    expect(parseReplayPosition("latest", now)).to.deep.equal({ latest: true });
    expect(parseReplayPosition("90m", now)).to.deep.equal({ timeMs: now - 90 * 60_000 });
    expect(parseReplayPosition("2025-01-15T11:00:00Z", now)).to.deep.equal({ timeMs: now - 3_600_000 });
    expect(parseReplayPosition("yesterday", now)).to.equal(null);
    expect(parseReplayPosition("2025-13-45", now)).to.equal(null);
    expect(parseReplayPosition("-5", now)).to.equal(null);
  });
});
