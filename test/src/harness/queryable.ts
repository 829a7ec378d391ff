import type { Sink } from "@tracehouse/clickhouse";
import type { RecordType } from "@tracehouse/schemas";
import { TABLE_OF_RECORD_TYPE } from "@tracehouse/worker";
import { pollUntil, wallClockMs } from "./poll.js";

/** A record to look for: its type names the table. */
export interface RecordRef {
  readonly type: RecordType;
  readonly eventId: string;
}

export interface QueryableOptions {
  /** Default: 60000. */
  readonly timeoutMs?: number;
  /** Pause between polls; bounds the resolution of the times returned. Default: 50. */
  readonly intervalMs?: number;
}

const CHUNK = 5000;

/**
 * Polls the record tables until every record in `records` can be read, and returns, per event id,
 * the wall-clock time (epoch ms) at which the first query that saw it started: the record was
 * queryable by then. Throws after `timeoutMs`, naming how many records of which table are missing.
 */
export async function waitUntilQueryable(
  sink: Sink,
  records: readonly RecordRef[],
  options: QueryableOptions = {},
): Promise<Map<string, number>> {
  const pending = new Map<string, Set<string>>();
  for (const record of records) {
    const table = TABLE_OF_RECORD_TYPE[record.type];
    let ids = pending.get(table);
    if (ids === undefined) pending.set(table, (ids = new Set()));
    ids.add(record.eventId);
  }
  const seenAt = new Map<string, number>();
  const poll = async (): Promise<true | undefined> => {
    for (const [table, ids] of pending) {
      const all = [...ids];
      for (let i = 0; i < all.length; i += CHUNK) {
        const startedAt = wallClockMs();
        const rows = await sink.query<{ event_id: string }>(
          `SELECT DISTINCT event_id FROM ${sink.database}.${table} WHERE event_id IN {ids:Array(String)}`,
          { ids: all.slice(i, i + CHUNK) },
        );
        for (const { event_id } of rows) {
          if (ids.delete(event_id)) seenAt.set(event_id, startedAt);
        }
      }
      if (ids.size === 0) pending.delete(table);
    }
    return pending.size === 0 ? true : undefined;
  };
  await pollUntil(poll, {
    what: `${records.length} records to be queryable`,
    timeoutMs: options.timeoutMs,
    intervalMs: options.intervalMs ?? 50,
    describe: () =>
      [...pending].map(([table, ids]) => `${ids.size} missing from ${table}`).join(", ") || "none missing",
  });
  return seenAt;
}
