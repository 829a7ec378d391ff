import { TABLE_COLUMNS } from "./projection.js";
import type { RecordTable } from "./projection.js";
import type { Row } from "./sink.js";
import { columnPicker, stringifyRow } from "./internal/json-each-row.js";
import type { ColumnPicker } from "./internal/json-each-row.js";

const INITIAL_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/**
 * Rows of one record table, encoded as they are added: one JSONCompactEachRow line per row (the
 * table's TABLE_COLUMNS in order, a missing value as null) in a Buffer outside the JS heap. A
 * batch that holds its rows this way keeps no row objects alive between the record and the
 * insert, so they die young and the garbage collector does not copy and mark them while the
 * batch fills and waits. Lines end with '\n', so any run of rows is a valid insert body on its
 * own: `slice` gives one without copying (to split a batch the engine rejects).
 */
export class EncodedRows {
  readonly table: RecordTable;
  #buffer: Buffer;
  /** Where each row's line ends in `#buffer` (exclusive), in order. */
  readonly #ends: number[];
  #size: number;
  readonly #sealed: boolean;
  readonly #pick: ColumnPicker;

  constructor(table: RecordTable, slice?: { readonly buffer: Buffer; readonly ends: number[] }) {
    this.table = table;
    this.#buffer = slice?.buffer ?? Buffer.allocUnsafe(INITIAL_BYTES);
    this.#ends = slice?.ends ?? [];
    this.#size = slice === undefined ? 0 : slice.buffer.length;
    this.#sealed = slice !== undefined;
    this.#pick = columnPicker(TABLE_COLUMNS[table]);
  }

  /** Rows held. */
  get length(): number {
    return this.#ends.length;
  }

  /** Bytes of the encoded rows. */
  get bytes(): number {
    return this.#size;
  }

  /** Encodes a row of `table` and appends it; returns the bytes its line takes. */
  add(row: Row): number {
    if (this.#sealed) throw new Error("EncodedRows: a slice is read-only");
    const json = stringifyRow(this.#pick(row));
    // A UTF-16 code unit takes at most three bytes in UTF-8; then the newline.
    const room = this.#size + json.length * 3 + 1;
    if (room > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(room, this.#buffer.length * 2));
      this.#buffer.copy(grown, 0, 0, this.#size);
      this.#buffer = grown;
    }
    // The newline is written as a byte: `json + "\n"` would make a third string to copy.
    const written = this.#buffer.write(json, this.#size, "utf8") + 1;
    this.#buffer[this.#size + written - 1] = NEWLINE;
    this.#size += written;
    this.#ends.push(this.#size);
    return written;
  }

  /** Rows `start` (inclusive) to `end` (exclusive), sharing this buffer: read-only. */
  slice(start: number, end: number = this.length): EncodedRows {
    const from = start === 0 ? 0 : this.#ends[start - 1]!;
    const ends = this.#ends.slice(start, end).map((at) => at - from);
    const to = ends.length === 0 ? from : from + ends[ends.length - 1]!;
    return new EncodedRows(this.table, { buffer: this.#buffer.subarray(from, to), ends });
  }

  /** The insert body: the lines of every row, one after the other (a view, not a copy). */
  payload(): Buffer {
    return this.#buffer.subarray(0, this.#size);
  }

  /** Row `index` decoded again, keyed by column (for a dead letter that must carry it). */
  row(index: number): Row {
    const from = index === 0 ? 0 : this.#ends[index - 1]!;
    const values = JSON.parse(this.#buffer.toString("utf8", from, this.#ends[index]!)) as unknown[];
    const columns = TABLE_COLUMNS[this.table];
    const row: Record<string, unknown> = {};
    for (let column = 0; column < columns.length; column++) row[columns[column]!] = values[column];
    return row;
  }

  /** Every row decoded again. */
  rows(): Row[] {
    return Array.from({ length: this.length }, (_, index) => this.row(index));
  }
}
