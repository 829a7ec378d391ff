import type { InsertOptions, InsertResult, QueryParams, Row, Sink } from "./sink.js";

/** Suffix of the Distributed table that cluster mode (migration 0007) puts over each replicated table. */
export const DISTRIBUTED_SUFFIX = "_all";

/** The tables that have a Distributed table in cluster mode (migrations 0007, 0008, 0009). */
export const DISTRIBUTED_TABLES: readonly string[] = [
  "agent_executions",
  "agent_events",
  "performance_metrics",
  "trace_correlations",
  "error_logs",
  "spans",
  "executions_state",
  "agent_hourly_facts",
  "errors_hourly",
  "trace_index",
  "execution_summary",
  "model_prices",
];

/**
 * The table to insert into or read from: the table itself on a single server, its Distributed table
 * (sharded by trace id) on a cluster.
 */
export function tableFor(table: string, cluster: string | null | undefined): string {
  return cluster === null || cluster === undefined ? table : `${table}${DISTRIBUTED_SUFFIX}`;
}

/**
 * The sink itself on a single server; on a cluster, a sink whose inserts go to the Distributed tables
 * and whose queries read them: `<database>.<table>` of every table in DISTRIBUTED_TABLES becomes
 * `<database>.<table>_all` in the SQL of `query` (the trace queries name their tables that way).
 * DDL (`command`) passes through unchanged.
 */
export function throughDistributed(sink: Sink, cluster: string | null | undefined): Sink {
  if (cluster === null || cluster === undefined) return sink;
  const qualified = new RegExp(
    `\\b${sink.database}\\.(${DISTRIBUTED_TABLES.join("|")})\\b(?!${DISTRIBUTED_SUFFIX})`,
    "g",
  );
  return {
    kind: sink.kind,
    database: sink.database,
    concurrency: sink.concurrency,
    insert: (table: string, rows: readonly Row[], options?: InsertOptions): Promise<InsertResult> =>
      sink.insert(tableFor(table, cluster), rows, options),
    query: <T>(sql: string, params?: QueryParams): Promise<T[]> =>
      sink.query<T>(
        sql.replace(qualified, (name) => `${name}${DISTRIBUTED_SUFFIX}`),
        params,
      ),
    command: (sql) => sink.command(sql),
    close: () => sink.close(),
  };
}
