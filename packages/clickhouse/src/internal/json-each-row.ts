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

/** A row's values in `columns` order, a missing value as null (the column's default on insert). */
export function positionalValues(columns: readonly string[], row: Row): unknown[] {
  const values = new Array<unknown>(columns.length);
  for (let column = 0; column < columns.length; column++) values[column] = row[columns[column]!] ?? null;
  return values;
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
