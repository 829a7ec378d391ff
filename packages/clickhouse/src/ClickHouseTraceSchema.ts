import { ConfigError, noopLogger } from "@tracehouse/schemas";
import type { Logger } from "@tracehouse/schemas";
import { MigrationError, isSinkError } from "./errors.js";
import {
  DEFAULT_REPLICA_NAME,
  DEFAULT_REPLICATION_PATH,
  renderMigrations,
  validateMigrationSettings,
} from "./migrations.js";
import type { MigrationSettings, RenderedMigration } from "./migrations.js";
import type { Sink } from "./sink.js";
import { MIGRATIONS_TABLE, SCHEMA_OBJECTS, SchemaObjectKind } from "./tables.js";

export interface SchemaOptions {
  /** Must equal the sink's database when given. Default: the sink's database. */
  readonly database?: string;
  /** Cluster name for `ON CLUSTER` DDL and Replicated* engines. Default: none (single server). */
  readonly cluster?: string;
  /** Retention of every table, in days from the event time; null disables TTL. Default: 90. */
  readonly ttlDays?: number | null;
  /** Insert blocks remembered for deduplication per table. Default: 1000. */
  readonly dedupWindow?: number;
  /** Replicated* table path (cluster mode). Default: "/clickhouse/tables/{shard}/{database}/{table}". */
  readonly replicationPath?: string;
  /** Replicated* replica name (cluster mode). Default: "{replica}". */
  readonly replicaName?: string;
  /** Default: a logger that drops everything. */
  readonly logger?: Logger;
}

export interface SchemaConfig {
  readonly migration: MigrationSettings;
  readonly logger: Logger;
}

export interface MigrationReport {
  /** Versions this call applied. */
  readonly applied: readonly number[];
  /** Versions found already applied. */
  readonly alreadyApplied: readonly number[];
}

export interface TableVerification {
  readonly ok: boolean;
  /** What is absent: "table", "view", "materialized view", "column <name>", "index <name>". */
  readonly missing: readonly string[];
}

export interface SchemaVerification {
  readonly ok: boolean;
  readonly tables: Readonly<Record<string, TableVerification>>;
}

export interface TableStats {
  readonly engine: string;
  readonly rows: number;
  readonly bytesOnDisk: number;
  readonly uncompressedBytes: number;
  readonly parts: number;
}

export const DEFAULT_TTL_DAYS = 90;
export const DEFAULT_DEDUP_WINDOW = 1000;

/** Engine codes meaning "someone else created it first": success for an IF NOT EXISTS statement. */
const ALREADY_EXISTS_CODES: ReadonlySet<number> = new Set([57, 82]);

export function resolveSchemaConfig(database: string, options: SchemaOptions = {}): SchemaConfig {
  if (options.database !== undefined && options.database !== database) {
    throw new ConfigError(`schema database ${options.database} differs from the sink's database ${database}`);
  }
  return {
    migration: validateMigrationSettings({
      database,
      cluster: options.cluster ?? null,
      ttlDays: options.ttlDays === undefined ? DEFAULT_TTL_DAYS : options.ttlDays,
      dedupWindow: options.dedupWindow ?? DEFAULT_DEDUP_WINDOW,
      replicationPath: options.replicationPath ?? DEFAULT_REPLICATION_PATH,
      replicaName: options.replicaName ?? DEFAULT_REPLICA_NAME,
    }),
    logger: options.logger ?? noopLogger,
  };
}

const KIND_WORD = {
  [SchemaObjectKind.Table]: "table",
  [SchemaObjectKind.View]: "view",
  [SchemaObjectKind.MaterializedView]: "materialized view",
} as const;

function kindOfEngine(engine: string): SchemaObjectKind {
  if (engine === "View") return SchemaObjectKind.View;
  if (engine === "MaterializedView") return SchemaObjectKind.MaterializedView;
  return SchemaObjectKind.Table;
}

/**
 * Applies the versioned migrations and inspects the result. Every statement is IF NOT EXISTS and
 * versions are recorded in schema_migrations, so several workers may run createTables at once.
 */
export class ClickHouseTraceSchema {
  readonly config: SchemaConfig;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly sink: Sink,
    options: SchemaOptions = {},
  ) {
    this.config = resolveSchemaConfig(sink.database, options);
  }

  get database(): string {
    return this.config.migration.database;
  }

  /** The migrations rendered for this schema's settings (bootstrap first). */
  migrations(): RenderedMigration[] {
    return renderMigrations(this.config.migration);
  }

  /** Applies pending migrations in order; calls on one instance run one after another. */
  createTables(): Promise<MigrationReport> {
    const run = this.#queue.then(() => this.#migrate());
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async verifySchema(): Promise<SchemaVerification> {
    const params = { database: this.database };
    const [tables, columns, indexes] = await Promise.all([
      this.sink.query<{ name: string; engine: string }>(
        "SELECT name, engine FROM system.tables WHERE database = {database:String}",
        params,
      ),
      this.sink.query<{ table: string; name: string }>(
        "SELECT table, name FROM system.columns WHERE database = {database:String}",
        params,
      ),
      this.sink.query<{ table: string; name: string }>(
        "SELECT table, name FROM system.data_skipping_indices WHERE database = {database:String}",
        params,
      ),
    ]);
    const engines = new Map(tables.map((row) => [row.name, row.engine]));
    const present = (rows: readonly { table: string; name: string }[]): Set<string> =>
      new Set(rows.map((row) => `${row.table}.${row.name}`));
    const presentColumns = present(columns);
    const presentIndexes = present(indexes);
    const result: Record<string, TableVerification> = {};
    for (const object of SCHEMA_OBJECTS) {
      const engine = engines.get(object.name);
      const missing: string[] = [];
      if (engine === undefined || kindOfEngine(engine) !== object.kind) {
        missing.push(KIND_WORD[object.kind]);
      } else {
        for (const column of object.columns) {
          if (!presentColumns.has(`${object.name}.${column}`)) missing.push(`column ${column}`);
        }
        for (const index of object.indexes) {
          if (!presentIndexes.has(`${object.name}.${index}`)) missing.push(`index ${index}`);
        }
      }
      result[object.name] = { ok: missing.length === 0, missing };
    }
    return { ok: Object.values(result).every((entry) => entry.ok), tables: result };
  }

  /** Rows and bytes per MergeTree table of the database, from the active parts. */
  async getTableStats(): Promise<Record<string, TableStats>> {
    const rows = await this.sink.query<{
      table: string;
      engine: string;
      rows: number;
      bytes_on_disk: number;
      uncompressed_bytes: number;
      parts: number;
    }>(
      `SELECT t.name AS table, t.engine AS engine,
              ifNull(p.rows, 0) AS rows, ifNull(p.bytes_on_disk, 0) AS bytes_on_disk,
              ifNull(p.uncompressed_bytes, 0) AS uncompressed_bytes, ifNull(p.parts, 0) AS parts
       FROM system.tables AS t
       LEFT JOIN
       (
           SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS bytes_on_disk,
                  sum(data_uncompressed_bytes) AS uncompressed_bytes, count() AS parts
           FROM system.parts
           WHERE database = {database:String} AND active
           GROUP BY table
       ) AS p ON p.table = t.name
       WHERE t.database = {database:String} AND t.engine LIKE '%MergeTree'
       ORDER BY t.name
       SETTINGS join_use_nulls = 1`,
      { database: this.database },
    );
    const stats: Record<string, TableStats> = {};
    for (const row of rows) {
      stats[row.table] = {
        engine: row.engine,
        rows: Number(row.rows),
        bytesOnDisk: Number(row.bytes_on_disk),
        uncompressedBytes: Number(row.uncompressed_bytes),
        parts: Number(row.parts),
      };
    }
    return stats;
  }

  async #migrate(): Promise<MigrationReport> {
    const [bootstrap, ...migrations] = this.migrations();
    for (const statement of bootstrap?.statements ?? []) await this.#execute(statement);
    const applied = await this.#appliedChecksums();
    const report = { applied: [] as number[], alreadyApplied: [] as number[] };
    for (const migration of migrations) {
      const checksum = applied.get(migration.version);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          throw new MigrationError(
            `migration ${migration.version}_${migration.name} was applied from a different file (checksum ${checksum}, file ${migration.checksum})`,
          );
        }
        report.alreadyApplied.push(migration.version);
        continue;
      }
      for (const statement of migration.statements) await this.#execute(statement);
      await this.sink.insert(MIGRATIONS_TABLE, [
        { version: migration.version, name: migration.name, checksum: migration.checksum },
      ]);
      report.applied.push(migration.version);
      this.config.logger.info("migration applied", {
        database: this.database,
        version: migration.version,
        name: migration.name,
      });
    }
    return report;
  }

  async #appliedChecksums(): Promise<Map<number, string>> {
    const rows = await this.sink.query<{ version: number; checksum: string }>(
      `SELECT version, argMax(checksum, applied_at) AS checksum
       FROM ${this.database}.${MIGRATIONS_TABLE} GROUP BY version`,
    );
    return new Map(rows.map((row) => [Number(row.version), row.checksum]));
  }

  async #execute(statement: string): Promise<void> {
    try {
      await this.sink.command(statement);
    } catch (error) {
      if (
        isSinkError(error) &&
        error.clickhouseCode !== null &&
        ALREADY_EXISTS_CODES.has(error.clickhouseCode)
      ) {
        return;
      }
      if (isSinkError(error) && error.retriable) throw error;
      throw new MigrationError(`migration statement failed: ${statement.split("\n", 1)[0] ?? ""}`, {
        cause: error,
      });
    }
  }
}
