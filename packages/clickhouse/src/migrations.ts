import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError } from "@tracehouse/schemas";
import { MigrationError } from "./errors.js";
import { assertClusterName, assertIdentifier } from "./internal/identifiers.js";
import { MIGRATIONS_TABLE } from "./tables.js";

/** What a migration template is rendered with. */
export interface MigrationSettings {
  readonly database: string;
  /** Cluster name: renders `ON CLUSTER '<name>'` and Replicated* engines. null: single server. */
  readonly cluster: string | null;
  /** Days rows are kept (TTL on the event time). null: no TTL. */
  readonly ttlDays: number | null;
  /** Blocks remembered for insert deduplication (non_replicated_/replicated_deduplication_window). */
  readonly dedupWindow: number;
  /** ZooKeeper/Keeper path of Replicated* tables; ClickHouse macros allowed. */
  readonly replicationPath: string;
  /** Replica name of Replicated* tables; ClickHouse macros allowed. */
  readonly replicaName: string;
}

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** sha256 of the template text, recorded when applied. */
  readonly checksum: string;
  readonly template: string;
}

export interface RenderedMigration {
  readonly version: number;
  readonly name: string;
  readonly checksum: string;
  readonly statements: readonly string[];
}

export const DEFAULT_REPLICATION_PATH = "/clickhouse/tables/{shard}/{database}/{table}";
export const DEFAULT_REPLICA_NAME = "{replica}";

const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations/", import.meta.url));
const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const PLACEHOLDER = /\{\{\s*([a-z_]+)(?::([^}]*))?\s*\}\}/g;
/** `{{#cluster}} … {{/cluster}}`: kept in cluster mode, dropped on a single server. */
const CLUSTER_SECTION = /\{\{#cluster\}\}([\s\S]*?)\{\{\/cluster\}\}/g;
const ENGINES: ReadonlySet<string> = new Set([
  "MergeTree",
  "ReplacingMergeTree",
  "AggregatingMergeTree",
  "SummingMergeTree",
]);
const MACRO_SAFE = /^[A-Za-z0-9_{}/.-]+$/;

/** Creates the database and the table recording applied migrations; run before anything else. */
export const BOOTSTRAP_TEMPLATE = `
CREATE DATABASE IF NOT EXISTS {{database}}{{on_cluster}};

CREATE TABLE IF NOT EXISTS {{database}}.${MIGRATIONS_TABLE}{{on_cluster}}
(
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = {{engine:ReplacingMergeTree}}
ORDER BY version
{{settings}};
`;

function quoteString(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/**
 * The one function that turns a migration template into SQL. Placeholders:
 * `{{database}}`, `{{on_cluster}}`, `{{cluster}}` (the quoted cluster name), `{{engine:<MergeTree
 * family>}}`, `{{ttl:<DateTime expression>}}` and `{{settings}}` (MergeTree SETTINGS clause); and
 * `{{#cluster}} … {{/cluster}}` sections, rendered in cluster mode only.
 */
export function renderMigrationSql(template: string, settings: MigrationSettings): string {
  const database = assertIdentifier(settings.database, "database");
  const cluster = settings.cluster === null ? null : assertClusterName(settings.cluster);
  const sections = template.replace(CLUSTER_SECTION, (_match, body: string) =>
    cluster === null ? "" : body,
  );
  return sections.replace(PLACEHOLDER, (match, name: string, argument: string | undefined) => {
    switch (name) {
      case "database":
        return database;
      case "on_cluster":
        return cluster === null ? "" : ` ON CLUSTER ${quoteString(cluster)}`;
      case "cluster":
        if (cluster === null) throw new MigrationError(`${match} outside a {{#cluster}} section`);
        return quoteString(cluster);
      case "engine": {
        const engine = (argument ?? "").trim();
        if (!ENGINES.has(engine)) throw new MigrationError(`unknown engine in ${match}`);
        if (cluster === null) return engine;
        return `Replicated${engine}(${quoteString(settings.replicationPath)}, ${quoteString(settings.replicaName)})`;
      }
      case "ttl": {
        const expression = (argument ?? "").trim();
        if (expression === "") throw new MigrationError(`${match} needs a time expression`);
        return settings.ttlDays === null ? "" : `TTL ${expression} + INTERVAL ${settings.ttlDays} DAY`;
      }
      case "settings": {
        const window =
          cluster === null ? "non_replicated_deduplication_window" : "replicated_deduplication_window";
        return `SETTINGS index_granularity = 8192, ${window} = ${settings.dedupWindow}`;
      }
      default:
        throw new MigrationError(`unknown placeholder ${match}`);
    }
  });
}

/** Statements of a rendered migration: `--` comment lines dropped, split at `;` ending a line. */
export function splitStatements(sql: string): string[] {
  return sql
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("--"))
    .join("\n")
    .split(/;[ \t]*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter((statement) => statement !== "");
}

function checksumOf(template: string): string {
  return createHash("sha256").update(template).digest("hex");
}

let loaded: readonly Migration[] | null = null;

/** The migration files shipped with this package, in version order. */
export function loadMigrations(): readonly Migration[] {
  loaded ??= readdirSync(MIGRATIONS_DIR)
    .filter((file) => FILE_NAME.test(file))
    .sort()
    .map((file) => {
      const match = FILE_NAME.exec(file);
      const template = readFileSync(`${MIGRATIONS_DIR}${file}`, "utf8");
      return {
        version: Number(match?.[1]),
        name: match?.[2] ?? file,
        checksum: checksumOf(template),
        template,
      };
    });
  return loaded;
}

export function validateMigrationSettings(settings: MigrationSettings): MigrationSettings {
  assertIdentifier(settings.database, "database");
  if (settings.cluster !== null) assertClusterName(settings.cluster);
  if (settings.ttlDays !== null && (!Number.isInteger(settings.ttlDays) || settings.ttlDays <= 0)) {
    throw new ConfigError(`ttlDays must be a positive integer or null, got ${String(settings.ttlDays)}`);
  }
  if (!Number.isInteger(settings.dedupWindow) || settings.dedupWindow < 0) {
    throw new ConfigError(`dedupWindow must be a non-negative integer, got ${String(settings.dedupWindow)}`);
  }
  for (const [name, value] of [
    ["replicationPath", settings.replicationPath],
    ["replicaName", settings.replicaName],
  ] as const) {
    if (!MACRO_SAFE.test(value)) throw new ConfigError(`${name} has characters outside ${MACRO_SAFE.source}`);
  }
  return settings;
}

/** Every migration rendered for these settings, bootstrap first (version 0). */
export function renderMigrations(settings: MigrationSettings): RenderedMigration[] {
  validateMigrationSettings(settings);
  const bootstrap: Migration = {
    version: 0,
    name: "bootstrap",
    checksum: checksumOf(BOOTSTRAP_TEMPLATE),
    template: BOOTSTRAP_TEMPLATE,
  };
  return [bootstrap, ...loadMigrations()].map((migration) => ({
    version: migration.version,
    name: migration.name,
    checksum: migration.checksum,
    statements: splitStatements(renderMigrationSql(migration.template, settings)),
  }));
}
