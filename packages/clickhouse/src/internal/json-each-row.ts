import type { Row } from "../sink.js";

function replaceBigInt(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

/**
 * One row as a JSONEachRow line. Dates serialise as ISO strings and bigints as decimal strings;
 * the sinks insert with date_time_input_format=best_effort, which reads both ISO strings and
 * epoch-microsecond integers into DateTime64(6).
 */
export function stringifyRow(row: unknown): string {
  try {
    return JSON.stringify(row);
  } catch (error) {
    if (error instanceof TypeError) return JSON.stringify(row, replaceBigInt);
    throw error;
  }
}

/** Takes a row's values in a fixed column order. */
export type ColumnPicker = (row: Row) => unknown[];

const pickers = new WeakMap<readonly string[], ColumnPicker>();

/**
 * What takes a row's values in `columns` order, a missing value as null (the column's default on
 * insert). Compiled once per column list into one array literal of named reads
 * (`[row["event_id"] ?? null, …]`): each read is a property access the JavaScript engine caches
 * for the row's shape, where a loop over the names is a keyed lookup by string per value, about
 * three times slower and a third of the cost of encoding a row. The names are written as JSON
 * string literals, so any column name is read as that name.
 */
export function columnPicker(columns: readonly string[]): ColumnPicker {
  let picker = pickers.get(columns);
  if (picker === undefined) {
    const reads = columns.map((column) => `row[${JSON.stringify(column)}] ?? null`).join(", ");
    picker = new Function("row", `"use strict"; return [${reads}];`) as ColumnPicker;
    pickers.set(columns, picker);
  }
  return picker;
}

export function encodeJsonEachRow(rows: readonly Row[]): Buffer {
  let text = "";
  for (const row of rows) text += stringifyRow(row) + "\n";
  return Buffer.from(text, "utf8");
}

export function parseJsonEachRow<T>(text: string): T[] {
  const rows: T[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    if (end > start) rows.push(JSON.parse(text.slice(start, end)) as T);
    start = end + 1;
  }
  return rows;
}
