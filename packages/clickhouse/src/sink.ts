import type { EncodedRows } from "./encoded-rows.js";
/** One row to insert: column name → value (a record mapped to its table's columns). */
export type Row = Readonly<Record<string, unknown>>;

/** Values for ClickHouse `{name:Type}` placeholders; never spliced into the SQL text. */
export type QueryParams = Readonly<Record<string, unknown>>;

export const SinkKind = { Http: "http", Embedded: "embedded" } as const;
export type SinkKind = (typeof SinkKind)[keyof typeof SinkKind];

export interface InsertOptions {
  /**
   * Sent as `insert_deduplication_token`: a retried batch with the same token is dropped by the
   * table and its materialized views. Use a token derived from the batch (e.g. topic, partition,
   * offset range). Default: none (identical blocks are still deduplicated by content hash).
   */
  readonly dedupToken?: string;
}

export interface InsertResult {
  /** Rows sent in this call (before any deduplication by the engine). */
  readonly rows: number;
}

/**
 * Where tracehouse rows go: a ClickHouse server over HTTP or the embedded engine. Same SQL, same
 * migrations. Table names in `query`/`command` SQL are written qualified (`database.table`);
 * `insert` qualifies an unqualified name with `database`. Every failure is a SinkError.
 */
export interface Sink {
  readonly kind: SinkKind;
  /** The database holding the tracehouse tables. */
  readonly database: string;
  /**
   * Calls the sink runs at once; more wait inside it (the embedded engine: one per session; HTTP:
   * the pool's open connections). A caller that batches does better to let a batch go on filling
   * while the sink is that busy than to seal it only to wait here.
   */
  readonly concurrency: number;
  /**
   * Inserts rows in a JSON row format (the embedded engine sends the record tables positionally,
   * in TABLE_COLUMNS order: a key that is not a column is not sent), or a record table's rows
   * already encoded that way (EncodedRows); an empty `rows` is a no-op.
   */
  insert(table: string, rows: readonly Row[] | EncodedRows, options?: InsertOptions): Promise<InsertResult>;
  /** Runs a SELECT and returns its rows (JSONEachRow; 64-bit integers as numbers). */
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]>;
  /** Runs a statement without a result (DDL, OPTIMIZE, SYSTEM …). */
  command(sql: string): Promise<void>;
  /** Waits for calls in flight, then releases the connection. Idempotent. */
  close(): Promise<void>;
}
