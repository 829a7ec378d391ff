import type { InsertOptions, Sink } from "../../src/index.js";
import type { TraceRows } from "./records.js";

/** Inserts every table's rows (one insert per table), in a fixed order. */
export async function insertRows(sink: Sink, rows: TraceRows, options: InsertOptions = {}): Promise<void> {
  for (const [table, list] of Object.entries(rows)) {
    await sink.insert(
      table,
      list,
      options.dedupToken === undefined ? {} : { dedupToken: `${options.dedupToken}:${table}` },
    );
  }
}
