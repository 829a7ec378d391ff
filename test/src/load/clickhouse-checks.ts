import { RECORD_TABLES } from "@tracehouse/clickhouse";
import type { RecordTable, Sink } from "@tracehouse/clickhouse";

export interface TableCount {
  readonly table: RecordTable;
  /** Rows stored, copies included (what a merge has not collapsed yet). */
  readonly storedRows: number;
  /** Rows as queries see them: `FINAL`, copies of one event id collapsed. */
  readonly rows: number;
  readonly uniqueIds: number;
}

export interface DeliveryCheck {
  /** Event ids the producer accepted (lines of the ids file). */
  readonly accepted: number;
  readonly acceptedUnique: number;
  /** Accepted ids found in a record table. */
  readonly inClickHouse: number;
  /** Accepted ids found in no record table. */
  readonly lost: number;
  /** Rows beyond the first of an event id, as queries see them (within or across tables). */
  readonly duplicates: number;
  /** Event ids in ClickHouse that the producer never accepted. */
  readonly unexpected: number;
  /** Stored copies that queries collapse (`FINAL`) and merges will remove. */
  readonly collapsedCopies: number;
  readonly tables: readonly TableCount[];
}

function fileLiteral(path: string): string {
  return `'${path.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

async function scalar(sink: Sink, sql: string): Promise<number> {
  const rows = await sink.query<{ value: number }>(sql);
  return Number(rows[0]?.value ?? 0);
}

/**
 * Compares every accepted event id (one per line in `idsFile`) with the record tables of
 * `database`, in ClickHouse itself: the ids are loaded into a scratch database next to it.
 */
export async function checkDelivery(sink: Sink, database: string, idsFile: string): Promise<DeliveryCheck> {
  const scratch = `${database}_check`;
  await sink.command(`DROP DATABASE IF EXISTS ${scratch} SYNC`);
  await sink.command(`CREATE DATABASE ${scratch}`);
  try {
    await sink.command(
      `CREATE TABLE ${scratch}.accepted (event_id String) ENGINE = MergeTree ORDER BY event_id`,
    );
    await sink.command(
      `INSERT INTO ${scratch}.accepted SELECT event_id FROM file(${fileLiteral(idsFile)}, 'LineAsString', 'event_id String') WHERE event_id != ''`,
    );
    const union = RECORD_TABLES.map((table) => `SELECT event_id FROM ${database}.${table} FINAL`).join(
      " UNION ALL ",
    );
    await sink.command(
      `CREATE TABLE ${scratch}.stored ENGINE = MergeTree ORDER BY event_id AS ` +
        `SELECT event_id, count() AS copies FROM (${union}) GROUP BY event_id`,
    );
    const tables: TableCount[] = [];
    for (const table of RECORD_TABLES) {
      const [counts] = await sink.query<{ stored: number; rows: number; ids: number }>(
        `SELECT (SELECT count() FROM ${database}.${table}) AS stored, ` +
          `(SELECT count() FROM ${database}.${table} FINAL) AS rows, ` +
          `(SELECT uniqExact(event_id) FROM ${database}.${table}) AS ids`,
      );
      tables.push({
        table,
        storedRows: Number(counts?.stored ?? 0),
        rows: Number(counts?.rows ?? 0),
        uniqueIds: Number(counts?.ids ?? 0),
      });
    }
    const accepted = await scalar(sink, `SELECT count() AS value FROM ${scratch}.accepted`);
    const acceptedUnique = await scalar(sink, `SELECT uniqExact(event_id) AS value FROM ${scratch}.accepted`);
    const lost = await scalar(
      sink,
      `SELECT count() AS value FROM (SELECT DISTINCT event_id FROM ${scratch}.accepted) AS a ` +
        `LEFT ANTI JOIN ${scratch}.stored AS s USING (event_id)`,
    );
    const unexpected = await scalar(
      sink,
      `SELECT count() AS value FROM ${scratch}.stored AS s LEFT ANTI JOIN ` +
        `(SELECT DISTINCT event_id FROM ${scratch}.accepted) AS a USING (event_id)`,
    );
    const duplicates = await scalar(sink, `SELECT sum(copies - 1) AS value FROM ${scratch}.stored`);
    const collapsedCopies = tables.reduce((sum, t) => sum + t.storedRows - t.rows, 0);
    return {
      accepted,
      acceptedUnique,
      inClickHouse: acceptedUnique - lost,
      lost,
      duplicates,
      unexpected,
      collapsedCopies,
      tables,
    };
  } finally {
    await sink.command(`DROP DATABASE IF EXISTS ${scratch} SYNC`).catch(() => undefined);
  }
}

/** Rows stored in the record tables (copies included), from part metadata: cheap enough to poll. */
export async function storedRows(sink: Sink, database: string): Promise<number> {
  const list = RECORD_TABLES.map((table) => `'${table}'`).join(", ");
  return scalar(
    sink,
    `SELECT sum(rows) AS value FROM system.parts WHERE database = '${database}' AND active AND table IN (${list})`,
  );
}

/** Memory the ClickHouse engine accounts for itself (`MemoryTracking`), bytes. */
export async function engineMemory(sink: Sink): Promise<number> {
  return scalar(sink, "SELECT value FROM system.metrics WHERE metric = 'MemoryTracking'");
}
