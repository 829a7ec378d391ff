import { expect } from "chai";
import { ConfigError } from "@tracehouse/schemas";
import {
  ClickHouseTraceSchema,
  MigrationError,
  loadMigrations,
  renderMigrationSql,
  renderMigrations,
  splitStatements,
} from "../src/index.js";
import type { MigrationSettings } from "../src/index.js";
import { embeddedTarget, uniqueDatabase } from "./support/engine.js";

const single: MigrationSettings = {
  database: "tracehouse",
  cluster: null,
  ttlDays: 90,
  dedupWindow: 1000,
  replicationPath: "/clickhouse/tables/{shard}/{database}/{table}",
  replicaName: "{replica}",
};
const clustered: MigrationSettings = { ...single, cluster: "traces_cluster" };
const statementsOf = (settings: MigrationSettings): string[] =>
  renderMigrations(settings).flatMap((migration) => [...migration.statements]);

describe("migrations", () => {
  it("ships versioned files in order, each with a stable checksum", () => {
    const migrations = loadMigrations();
    expect(migrations.map((migration) => migration.version)).to.deep.equal([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ]);
    for (const migration of migrations) expect(migration.checksum).to.match(/^[0-9a-f]{64}$/);
    expect(new Set(migrations.map((migration) => migration.checksum)).size).to.equal(migrations.length);
  });

  it("renders every placeholder and makes every statement safe to re-run", () => {
    const statements = statementsOf(single);
    expect(statements.length).to.be.greaterThan(20);
    for (const statement of statements) {
      expect(statement).to.not.include("{{");
      expect(statement).to.match(
        /^(CREATE (DATABASE|TABLE|MATERIALIZED VIEW|VIEW) IF NOT EXISTS tracehouse\b|DROP (TABLE|VIEW) IF EXISTS tracehouse\.\w+$|ALTER TABLE tracehouse\.\w+\s+(ADD (COLUMN|PROJECTION) IF NOT EXISTS|DROP COLUMN IF EXISTS|MODIFY SETTING|MATERIALIZE PROJECTION) )/,
      );
      expect(statement).to.not.include("ON CLUSTER");
      expect(statement).to.not.match(/Replicated/);
    }
    const tables = statements.filter((statement) => statement.startsWith("CREATE TABLE"));
    for (const table of tables) {
      expect(table).to.match(/ENGINE = (Replacing|Aggregating)MergeTree\n/);
      expect(table).to.include("non_replicated_deduplication_window = 1000");
    }
    // every table but the migrations' and the price table's
    expect(tables.filter((table) => /TTL \S+ \+ INTERVAL 90 DAY/.test(table))).to.have.length(
      tables.length - 2,
    );
  });

  it("renders ON CLUSTER and Replicated* engines in cluster mode", () => {
    const statements = statementsOf(clustered);
    for (const statement of statements) {
      const head = statement.split("\n", 1)[0] ?? "";
      expect(head).to.match(/ ON CLUSTER 'traces_cluster'$/);
    }
    const replicated = statements.filter(
      (statement) => statement.startsWith("CREATE TABLE") && !statement.includes("ENGINE = Distributed"),
    );
    expect(replicated).to.have.length(13);
    for (const table of replicated) {
      expect(table).to.match(
        /ENGINE = Replicated(Replacing|Aggregating)MergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\{table\}', '\{replica\}'\)\n/,
      );
      expect(table).to.include("SETTINGS index_granularity = 8192, replicated_deduplication_window = 1000");
      expect(table).to.not.include("non_replicated");
    }
    const spans = statements.find((statement) =>
      statement.startsWith("CREATE TABLE IF NOT EXISTS tracehouse.spans"),
    );
    expect(spans).to.include("CREATE TABLE IF NOT EXISTS tracehouse.spans ON CLUSTER 'traces_cluster'\n(");
  });

  it("renders cluster DDL the engine parses", async () => {
    const sink = embeddedTarget.makeSink(uniqueDatabase("parse"));
    try {
      for (const statement of statementsOf(clustered)) {
        const ast = await sink.query<{ explain: string }>(`EXPLAIN AST ${statement}`);
        expect(ast.length, statement.split("\n", 1)[0]).to.be.greaterThan(0);
      }
    } finally {
      await sink.close();
    }
  });

  it("leaves TTL out when ttlDays is null", () => {
    for (const statement of statementsOf({ ...single, ttlDays: null }))
      expect(statement).to.not.include("TTL");
  });

  it("rejects names that would change the SQL and unknown placeholders", () => {
    expect(() => renderMigrations({ ...single, database: "x; DROP TABLE y" })).to.throw(ConfigError);
    expect(() => renderMigrations({ ...single, cluster: "a' b" })).to.throw(ConfigError);
    expect(() => renderMigrations({ ...single, ttlDays: 0 })).to.throw(ConfigError);
    expect(() => renderMigrations({ ...single, replicaName: "x'" })).to.throw(ConfigError);
    expect(() => renderMigrationSql("SELECT {{nope}}", single)).to.throw(MigrationError);
    expect(() => renderMigrationSql("ENGINE = {{engine:Log}}", single)).to.throw(MigrationError);
  });

  it("splits statements at line-ending semicolons and drops comment lines", () => {
    expect(splitStatements("-- a; comment\nSELECT 1;\n\nSELECT ';'\n  ;  \n-- tail")).to.deep.equal([
      "SELECT 1",
      "SELECT ';'",
    ]);
  });

  it("exposes the rendered migrations through the schema manager", () => {
    const sink = embeddedTarget.makeSink(uniqueDatabase("render"));
    const schema = new ClickHouseTraceSchema(sink, { cluster: "c1", ttlDays: 30 });
    const rendered = schema.migrations();
    expect(rendered[0]?.name).to.equal("bootstrap");
    expect(rendered.flatMap((migration) => migration.statements).join("\n")).to.include("INTERVAL 30 DAY");
    expect(() => new ClickHouseTraceSchema(sink, { database: "other" })).to.throw(ConfigError);
    return sink.close();
  });
});
