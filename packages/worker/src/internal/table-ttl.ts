import { RECORD_TABLES } from "@tracehouse/clickhouse";
import type { RecordTable, Sink } from "@tracehouse/clickhouse";
import type { Logger } from "@tracehouse/schemas";

/** `TTL toDateTime(event_time) + toIntervalDay(90)` as ClickHouse prints it back (also `INTERVAL 90 DAY`). */
const TTL_DAYS = /\bTTL\b[^,]*?(?:toIntervalDay\((\d+)\)|INTERVAL\s+(\d+)\s+DAY)/i;

/** The TTL in days of a CREATE TABLE statement; null when it has none. */
export function ttlDaysOf(createTableQuery: string): number | null {
  const match = TTL_DAYS.exec(createTableQuery);
  const days = match?.[1] ?? match?.[2];
  return days === undefined ? null : Number(days);
}

/**
 * The TTL of each record table, read from the tables themselves (what `migrate` set, whatever this
 * worker's options say). A table that cannot be read counts as without TTL: its rows are then
 * bounded by the DateTime range only.
 */
export async function readTableTtls(sink: Sink, logger: Logger): Promise<Map<RecordTable, number | null>> {
  const ttls = new Map<RecordTable, number | null>();
  try {
    const rows = await sink.query<{ name: string; create_table_query: string }>(
      "SELECT name, create_table_query FROM system.tables WHERE database = {database:String} AND name IN {tables:Array(String)}",
      { database: sink.database, tables: [...RECORD_TABLES] },
    );
    for (const row of rows) ttls.set(row.name as RecordTable, ttlDaysOf(row.create_table_query));
  } catch (error) {
    logger.warn("cannot read the tables' TTL; event times are bounded by the DateTime range only", {
      error: error instanceof Error ? error.message : String(error),
    });
  }
  return ttls;
}
