import { expect } from "chai";
import { Session } from "chdb";
import { embeddedDataDir, uniqueName } from "../src/index.js";

describe("embedded ClickHouse engine (chdb) smoke", () => {
  let session: Session;
  const db = uniqueName("smoke");

  before(() => {
    session = new Session(embeddedDataDir());
  });

  after(async () => {
    await session.queryAsync(`DROP DATABASE IF EXISTS ${db}`);
    session.close();
  });

  it("creates, writes and reads a MergeTree table with DateTime64, LowCardinality, JSON and a materialized view", async () => {
    await session.queryAsync(`CREATE DATABASE ${db}`);
    await session.queryAsync(`
      CREATE TABLE ${db}.events (
        event_time DateTime64(6, 'UTC'),
        agent LowCardinality(String),
        duration_ms Float64,
        metadata JSON
      ) ENGINE = MergeTree PARTITION BY toYYYYMM(event_time) ORDER BY (agent, event_time)`);
    await session.queryAsync(`
      CREATE TABLE ${db}.per_agent (agent LowCardinality(String), runs UInt64, total_ms Float64)
      ENGINE = SummingMergeTree ORDER BY agent`);
    await session.queryAsync(`
      CREATE MATERIALIZED VIEW ${db}.per_agent_mv TO ${db}.per_agent AS
      SELECT agent, count() AS runs, sum(duration_ms) AS total_ms FROM ${db}.events GROUP BY agent`);

    const events = [
      {
        event_time: "2026-11-24 10:00:00.123456",
        agent: "planner",
        duration_ms: 12.5,
        metadata: { model: "m1", tokens: 7 },
      },
      {
        event_time: "2026-11-24 10:00:01.000001",
        agent: "planner",
        duration_ms: 7.5,
        metadata: { model: "m2" },
      },
      { event_time: "2026-11-24 10:00:02.000000", agent: "coder", duration_ms: 3, metadata: {} },
    ];
    const written = await session.insert({
      table: `${db}.events`,
      format: "JSONEachRow",
      values: Buffer.from(events.map((e) => JSON.stringify(e)).join("\n")),
    });
    expect(written.rowsSent).to.equal(3);

    const rows = (
      await session.queryAsync(
        `SELECT toString(event_time) AS t, agent, metadata.model AS model, toTypeName(agent) AS agent_type
         FROM ${db}.events ORDER BY event_time`,
        { format: "JSONEachRow" },
      )
    )
      .text()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows).to.have.length(3);
    expect(rows[0]).to.include({ t: "2026-11-24 10:00:00.123456", agent: "planner", model: "m1" });
    expect(rows[0]?.["agent_type"]).to.equal("LowCardinality(String)");
    expect(rows[2]?.["model"]).to.equal(null);

    const perAgent = (
      await session.queryAsync(
        `SELECT agent, sum(runs) AS runs, sum(total_ms) AS total_ms FROM ${db}.per_agent GROUP BY agent ORDER BY agent`,
        { format: "JSONEachRow" },
      )
    )
      .text()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(perAgent).to.deep.equal([
      { agent: "coder", runs: 1, total_ms: 3 },
      { agent: "planner", runs: 2, total_ms: 20 },
    ]);
  });
});
