// Migration 0012 on a database made by 0001–0011 and holding traces: trace_index loses its aggregate
// states, the views feeding it are replaced, and the traces keep their root and counts (read from
// execution_summary now), also for rows written after the upgrade.
import { expect } from "chai";
import { ClickHouseTraceSchema, TraceQueries } from "../src/index.js";
import type { Sink } from "../src/index.js";
import { embeddedTarget, uniqueDatabase } from "./support/engine.js";
import { HOUR, T0, TRACE_A, at, executionRow, fixtureRows, spanRow } from "./support/fixture.js";
import { insertRows } from "./support/insert.js";
import { emptyRows, envelope } from "./support/records.js";

const TRACE_NEW = "d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4";

const traces = (sink: Sink): Promise<Record<string, unknown>[]> =>
  sink.query(
    `SELECT trace_id, start_time, end_time, user_id, has_error, root, span_count, execution_count,
            event_count, error_count
     FROM ${sink.database}.traces ORDER BY trace_id`,
  );

describe("migration 0012: trace_index without aggregate states", function () {
  this.timeout(120_000);
  const db = uniqueDatabase("upgrade");
  const sink = embeddedTarget.makeSink(db);
  after(async () => {
    await sink.command(`DROP DATABASE IF EXISTS ${db}`);
    await sink.close();
  });

  it("keeps every trace's root and counts, and indexes the rows written after it", async () => {
    const schema = new ClickHouseTraceSchema(sink);
    for (const migration of schema.migrations().filter((migration) => migration.version <= 11))
      for (const statement of migration.statements) await sink.command(statement);
    await insertRows(sink, fixtureRows());
    const before = await traces(sink);
    expect(before.map((row) => row["trace_id"])).to.include(TRACE_A);

    await schema.createTables();
    expect(await traces(sink), "the traces view after the upgrade").to.deep.equal(before);
    const columns = await sink.query<{ name: string }>(
      `SELECT name FROM system.columns WHERE database = {db:String} AND table = 'trace_index' ORDER BY position`,
      { db },
    );
    expect(columns.map((column) => column.name)).to.deep.equal([
      "trace_id",
      "start_time",
      "end_time",
      "user_id",
      "has_error",
    ]);
    const views = await sink.query<{ name: string }>(
      `SELECT name FROM system.tables
       WHERE database = {db:String} AND engine = 'MaterializedView' AND name LIKE 'trace_index%' ORDER BY name`,
      { db },
    );
    expect(views.map((view) => view.name)).to.deep.equal(
      ["correlations", "errors", "events", "executions", "metrics", "spans"].map(
        (source) => `trace_index_${source}_bounds_mv`,
      ),
    );

    const env = envelope({
      event_time: T0 + HOUR,
      trace_id: TRACE_NEW,
      user_id: "user-9",
      execution_id: "exec-new",
      agent_name: "solo",
    });
    await insertRows(sink, {
      ...emptyRows(),
      agent_executions: [executionRow(env, "FAILED")],
      spans: [
        spanRow({ ...env, event_id: `${env.event_id}-span` }, "solo", T0 + HOUR, T0 + HOUR + 5_000, "ERROR"),
      ],
    });
    const found = await new TraceQueries(sink).findTraces({ from: at(T0 + HOUR / 2), to: at(T0 + 2 * HOUR) });
    expect(found.find((trace) => trace.traceId === TRACE_NEW)).to.deep.include({
      rootAgent: "solo",
      userId: "user-9",
      hasError: true,
      executionCount: 1,
      spanCount: 1,
      eventCount: 0,
      durationMs: 5,
    });
  });
});
