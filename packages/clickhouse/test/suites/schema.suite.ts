import { expect } from "chai";
import {
  ClickHouseTraceSchema,
  MigrationError,
  SCHEMA_OBJECTS,
  SchemaObjectKind,
  loadMigrations,
} from "../../src/index.js";
import type { Sink } from "../../src/index.js";
import { uniqueDatabase } from "../support/engine.js";
import type { SinkTarget } from "../support/engine.js";
import { fixtureRows } from "../support/fixture.js";
import { insertRows } from "../support/insert.js";

export function describeSchema(target: SinkTarget): void {
  describe(`${target.label} schema manager`, () => {
    const sinks: Sink[] = [];
    const open = (database: string): Sink => {
      const sink = target.makeSink(database);
      sinks.push(sink);
      return sink;
    };
    const versions = loadMigrations().map((migration) => migration.version);

    after(async () => {
      for (const sink of sinks)
        await sink.command(`DROP DATABASE IF EXISTS ${sink.database}`).catch(() => undefined);
      await Promise.all(sinks.map((sink) => sink.close()));
    });

    it("applies every migration once and is idempotent", async () => {
      const schema = new ClickHouseTraceSchema(open(uniqueDatabase("schema")));
      const first = await schema.createTables();
      expect(first).to.deep.equal({ applied: versions, alreadyApplied: [] });
      const second = await schema.createTables();
      expect(second).to.deep.equal({ applied: [], alreadyApplied: versions });
      const verification = await schema.verifySchema();
      expect(verification.ok, JSON.stringify(verification)).to.equal(true);
      expect(Object.keys(verification.tables).sort()).to.deep.equal(
        SCHEMA_OBJECTS.map((object) => object.name).sort(),
      );
    });

    it("creates exactly the columns the package declares (no drift between SQL and TypeScript)", async () => {
      const sink = open(uniqueDatabase("columns"));
      await new ClickHouseTraceSchema(sink).createTables();
      const rows = await sink.query<{ table: string; columns: string[] }>(
        `SELECT table, groupArray(name) AS columns FROM (SELECT table, name FROM system.columns
         WHERE database = {db:String} ORDER BY table, position) GROUP BY table`,
        { db: sink.database },
      );
      const actual = Object.fromEntries(rows.map((row) => [row.table, [...row.columns].sort()]));
      for (const object of SCHEMA_OBJECTS) {
        if (object.kind === SchemaObjectKind.MaterializedView) continue;
        expect(actual[object.name], object.name).to.deep.equal([...object.columns].sort());
      }
    });

    it("lets two workers run createTables concurrently", async () => {
      const database = uniqueDatabase("concurrent");
      const [a, b] = [new ClickHouseTraceSchema(open(database)), new ClickHouseTraceSchema(open(database))];
      const reports = await Promise.all([a.createTables(), b.createTables(), a.createTables()]);
      for (const report of reports) {
        expect([...report.applied, ...report.alreadyApplied].sort((x, y) => x - y)).to.deep.equal(versions);
      }
      expect((await b.verifySchema()).ok).to.equal(true);
      const recorded = await open(database).query<{ version: number }>(
        `SELECT DISTINCT version FROM ${database}.schema_migrations ORDER BY version`,
      );
      expect(recorded.map((row) => row.version)).to.deep.equal(versions);
    });

    it("reports a dropped index, column, table and view as missing", async () => {
      const sink = open(uniqueDatabase("verify"));
      const schema = new ClickHouseTraceSchema(sink);
      await schema.createTables();
      const db = sink.database;
      await sink.command(`ALTER TABLE ${db}.spans DROP INDEX idx_trace_id`);
      await sink.command(`ALTER TABLE ${db}.agent_events DROP COLUMN payload_bytes`);
      await sink.command(`DROP VIEW ${db}.trace_index_spans_bounds_mv`);
      await sink.command(`DROP TABLE ${db}.error_logs`);
      await sink.command(`DROP VIEW ${db}.traces`);
      const result = await schema.verifySchema();
      expect(result.ok).to.equal(false);
      expect(result.tables["spans"]).to.deep.equal({ ok: false, missing: ["index idx_trace_id"] });
      expect(result.tables["agent_events"]).to.deep.equal({ ok: false, missing: ["column payload_bytes"] });
      expect(result.tables["error_logs"]).to.deep.equal({ ok: false, missing: ["table"] });
      expect(result.tables["traces"]).to.deep.equal({ ok: false, missing: ["view"] });
      expect(result.tables["trace_index_spans_bounds_mv"]).to.deep.equal({
        ok: false,
        missing: ["materialized view"],
      });
      expect(result.tables["agent_executions"]).to.deep.equal({ ok: true, missing: [] });
    });

    it("refuses to continue when an applied migration's file has changed", async () => {
      const sink = open(uniqueDatabase("checksum"));
      const schema = new ClickHouseTraceSchema(sink);
      await schema.createTables();
      await sink.insert("schema_migrations", [
        {
          version: 2,
          name: "executions_current",
          checksum: "edited",
          applied_at: Date.now() * 1000 + 1_000_000,
        },
      ]);
      let error: unknown = null;
      await schema.createTables().catch((caught: unknown) => (error = caught));
      expect(error).to.be.instanceOf(MigrationError);
      expect((error as MigrationError).retriable).to.equal(false);
    });

    it("expires rows older than ttlDays, and keeps them when TTL is off", async () => {
      const nowUs = Date.now() * 1000;
      const day = 24 * 3600 * 1_000_000;
      const row = (eventTime: number, id: string): Record<string, unknown> => ({
        event_id: id,
        event_time: eventTime,
        trace_id: "d".repeat(32),
        span_id: "0".repeat(16),
        error_class: "E",
        message: "m",
        retriable: false,
        severity: "ERROR",
      });
      const counts: number[] = [];
      for (const ttlDays of [7, null]) {
        const sink = open(uniqueDatabase("ttl"));
        await new ClickHouseTraceSchema(sink, { ttlDays }).createTables();
        await sink.insert("error_logs", [row(nowUs - day, "recent"), row(nowUs - 10 * day, "expired")]);
        await sink.command(`OPTIMIZE TABLE ${sink.database}.error_logs FINAL`);
        const [result] = await sink.query<{ c: number }>(
          `SELECT count() AS c FROM ${sink.database}.error_logs FINAL`,
        );
        counts.push(result?.c ?? -1);
      }
      expect(counts).to.deep.equal([1, 2]);
    });

    it("reports rows and bytes per table from the active parts", async () => {
      const sink = open(uniqueDatabase("stats"));
      const schema = new ClickHouseTraceSchema(sink);
      await schema.createTables();
      const rows = fixtureRows();
      await insertRows(sink, rows);
      const stats = await schema.getTableStats();
      for (const [table, list] of Object.entries(rows)) {
        expect(stats[table]?.rows, table).to.equal(list.length);
        expect(stats[table]?.bytesOnDisk, table).to.be.greaterThan(0);
      }
      expect(stats["trace_index"]?.rows).to.be.greaterThan(0);
      expect(stats["schema_migrations"]?.rows).to.equal(versions.length);
    });
  });
}
