import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { RecordTable, throughDistributed, renderMigrations, tableFor } from "../src/index.js";
import type { MigrationSettings } from "../src/index.js";
import { embeddedTarget, uniqueDatabase } from "./support/engine.js";

/**
 * A sharded cluster of 2 shards × 2 replicas: the DDL is the same for any shape (the shard and
 * replica come from each server's macros), so one golden file pins it. UPDATE_GOLDEN=1 rewrites it.
 */
const GOLDEN = fileURLToPath(new URL("./golden/cluster-2x2.sql", import.meta.url));
const cluster: MigrationSettings = {
  database: "tracehouse",
  cluster: "tracehouse_2x2",
  ttlDays: 90,
  dedupWindow: 1000,
  replicationPath: "/clickhouse/tables/{shard}/{database}/{table}",
  replicaName: "{replica}",
};

function rendered(settings: MigrationSettings): string {
  return renderMigrations(settings)
    .map((migration) => `-- ${migration.version} ${migration.name}\n${migration.statements.join(";\n\n")};\n`)
    .join("\n");
}

describe("cluster mode: Distributed tables over the replicated ones", () => {
  it("renders the DDL of a 2-shard × 2-replica cluster exactly as the golden file", () => {
    const sql = rendered(cluster);
    if (process.env["UPDATE_GOLDEN"] === "1") writeFileSync(GOLDEN, sql);
    expect(sql).to.equal(readFileSync(GOLDEN, "utf8"));
  });

  it("puts a Distributed table sharded by trace id over every record table", () => {
    const statements = renderMigrations(cluster).flatMap((migration) => [...migration.statements]);
    for (const table of Object.values(RecordTable)) {
      const ddl = statements.find((statement) =>
        statement.startsWith(`CREATE TABLE IF NOT EXISTS tracehouse.${table}_all `),
      );
      expect(ddl, table).to.include(
        `ENGINE = Distributed('tracehouse_2x2', tracehouse, ${table}, cityHash64(trace_id))`,
      );
    }
    const views = statements.filter((statement) => statement.startsWith("CREATE OR REPLACE VIEW"));
    expect(views).to.have.length(4);
    for (const view of views) expect(view).to.match(/FROM tracehouse\.\w+_all\b/);
  });

  it("renders nothing of it on a single server", () => {
    const single = renderMigrations({ ...cluster, cluster: null });
    const distributed = single.find((migration) => migration.version === 7);
    expect(distributed?.statements).to.deep.equal([]);
    expect(rendered({ ...cluster, cluster: null })).to.not.include("_all");
  });

  it("names the Distributed table on a cluster and the table itself on one server", () => {
    expect(tableFor("agent_events", "c")).to.equal("agent_events_all");
    expect(tableFor("agent_events", null)).to.equal("agent_events");
    expect(tableFor("agent_events", undefined)).to.equal("agent_events");
  });

  it("reads the Distributed tables on a cluster: the trace queries' table names get _all", async () => {
    const reads: string[] = [];
    const recording = {
      kind: "embedded",
      database: "tracehouse",
      concurrency: 1,
      insert: async () => ({ rows: 0 }),
      query: async <T>(sql: string): Promise<T[]> => {
        reads.push(sql);
        return [];
      },
      command: async () => undefined,
      close: async () => undefined,
    } as const;
    const sink = throughDistributed(recording, "c");
    await sink.query(
      "SELECT * FROM tracehouse.agent_events FINAL JOIN tracehouse.trace_index USING trace_id",
    );
    await sink.query("SELECT * FROM tracehouse.agent_events_all, tracehouse.schema_migrations, other.spans");
    expect(reads).to.deep.equal([
      "SELECT * FROM tracehouse.agent_events_all FINAL JOIN tracehouse.trace_index_all USING trace_id",
      "SELECT * FROM tracehouse.agent_events_all, tracehouse.schema_migrations, other.spans",
    ]);
  });

  it("sends a cluster sink's inserts to the Distributed table, on the real engine", async () => {
    const database = uniqueDatabase("dist");
    const sink = embeddedTarget.makeSink(database);
    try {
      await sink.command(`CREATE DATABASE IF NOT EXISTS ${database}`);
      // A stand-in with the Distributed table's name: the embedded engine has no cluster to shard to.
      for (const name of ["t", "t_all"])
        await sink.command(`CREATE TABLE ${database}.${name} (id UInt32) ENGINE = MergeTree ORDER BY id`);
      expect(throughDistributed(sink, null)).to.equal(sink);
      await throughDistributed(sink, "c").insert("t", [{ id: 1 }, { id: 2 }]);
      const counts = await sink.query<{ plain: number; all: number }>(
        `SELECT (SELECT count() FROM ${database}.t) AS plain, (SELECT count() FROM ${database}.t_all) AS all`,
      );
      expect(counts).to.deep.equal([{ plain: 0, all: 2 }]);
    } finally {
      await sink.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
      await sink.close();
    }
  });
});
