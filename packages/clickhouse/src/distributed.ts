import type { InsertOptions, InsertResult, Row, Sink } from "./sink.js";

/** Suffix of the Distributed table that cluster mode (migration 0007) puts over each replicated table. */
export const DISTRIBUTED_SUFFIX = "_all";

/**
 * The table to insert into or read from: the table itself on a single server, its Distributed table
 * (sharded by trace id) on a cluster.
 */
export function tableFor(table: string, cluster: string | null | undefined): string {
  return cluster === null || cluster === undefined ? table : `${table}${DISTRIBUTED_SUFFIX}`;
}

/**
 * The sink itself on a single server; on a cluster, a sink whose inserts go to the Distributed tables
 * (queries and DDL pass through unchanged: their SQL names its tables).
 */
export function insertThroughDistributed(sink: Sink, cluster: string | null | undefined): Sink {
  if (cluster === null || cluster === undefined) return sink;
  return {
    kind: sink.kind,
    database: sink.database,
    insert: (table: string, rows: readonly Row[], options?: InsertOptions): Promise<InsertResult> =>
      sink.insert(tableFor(table, cluster), rows, options),
    query: (sql, params) => sink.query(sql, params),
    command: (sql) => sink.command(sql),
    close: () => sink.close(),
  };
}
