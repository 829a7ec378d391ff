import type { Row } from "../sink.js";
import { DISTRIBUTED_SUFFIX } from "../distributed.js";
import { EncodedRows } from "../encoded-rows.js";
import { TABLE_COLUMNS } from "../projection.js";
import { columnPicker, encodeJsonEachRow, stringifyRow } from "./json-each-row.js";

/** The insert formats the sinks produce. */
export const InsertFormat = { JsonEachRow: "JSONEachRow", JsonCompactEachRow: "JSONCompactEachRow" } as const;
export type InsertFormat = (typeof InsertFormat)[keyof typeof InsertFormat];

/** An INSERT body: its format, the columns a positional format gives (in order), its bytes. */
export interface InsertPayload {
  readonly format: InsertFormat;
  readonly columns?: readonly string[];
  readonly bytes: Buffer;
}

/** The columns of a record table (also through its Distributed table), or undefined for any other table. */
export function recordTableColumns(table: string): readonly string[] | undefined {
  let name = table.slice(table.lastIndexOf(".") + 1);
  if (name.endsWith(DISTRIBUTED_SUFFIX)) name = name.slice(0, -DISTRIBUTED_SUFFIX.length);
  return Object.hasOwn(TABLE_COLUMNS, name) ? TABLE_COLUMNS[name as keyof typeof TABLE_COLUMNS] : undefined;
}

/**
 * Rows as positional JSONCompactEachRow: each row an array of its `columns` values in order, a
 * missing value sent as null (the engine's default for the column, with input_format_null_as_default).
 * About half the bytes of JSONEachRow and no key to match per value, so cheaper to produce and to
 * parse. One JSON.stringify for the whole batch; rows are separated by commas, which the JSON row
 * formats accept between rows.
 */
export function encodeJsonCompactEachRow(columns: readonly string[], rows: readonly Row[]): Buffer {
  const pick = columnPicker(columns);
  const values: unknown[][] = new Array<unknown[]>(rows.length);
  for (let index = 0; index < rows.length; index++) values[index] = pick(rows[index]!);
  const text = stringifyRow(values);
  const bytes = Buffer.allocUnsafe(Buffer.byteLength(text, "utf8"));
  const written = bytes.write(text, "utf8");
  // Without the outer brackets: "[…],[…],…".
  return bytes.subarray(1, written - 1);
}

/**
 * The body of an insert into `table`: the record tables (whose columns are known) positionally
 * as JSONCompactEachRow, where a key that is not a column of the table is not sent; any other
 * table as JSONEachRow, where the engine refuses an unknown key. EncodedRows are that body already.
 */
export function encodeInsert(table: string, rows: readonly Row[] | EncodedRows): InsertPayload {
  if (rows instanceof EncodedRows) {
    if (recordTableColumns(table) !== TABLE_COLUMNS[rows.table])
      throw new Error(`rows of ${rows.table} cannot be inserted into ${table}`);
    return {
      format: InsertFormat.JsonCompactEachRow,
      columns: TABLE_COLUMNS[rows.table],
      bytes: rows.payload(),
    };
  }
  const columns = recordTableColumns(table);
  if (columns === undefined) return { format: InsertFormat.JsonEachRow, bytes: encodeJsonEachRow(rows) };
  return { format: InsertFormat.JsonCompactEachRow, columns, bytes: encodeJsonCompactEachRow(columns, rows) };
}
