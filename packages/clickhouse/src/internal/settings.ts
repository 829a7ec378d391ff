/** ClickHouse settings applied to every insert, by both sinks. */
export const INSERT_SETTINGS = {
  async_insert: 0,
  insert_deduplicate: 1,
  deduplicate_blocks_in_dependent_materialized_views: 1,
  date_time_input_format: "best_effort",
  input_format_null_as_default: 1,
  input_format_skip_unknown_fields: 0,
} as const;

/** ClickHouse settings applied to every query, by both sinks. */
export const QUERY_SETTINGS = {
  output_format_json_quote_64bit_integers: 0,
  output_format_json_quote_denormals: 0,
} as const;

/**
 * The embedded engine's inserts: INSERT_SETTINGS, parsed on the calling thread. A batch is a few
 * megabytes, below one parallel-parsing chunk, so parallel parsing only adds threads and buffers.
 * `optimize_on_insert: 0`: a new part of a Replacing/AggregatingMergeTree table is written sorted but
 * not collapsed on insert (merges and FINAL / -Merge readers collapse it anyway; block deduplication
 * is unaffected), which saves a merge pass over every block of every table and view.
 */
export const EMBEDDED_INSERT_SETTINGS = {
  ...INSERT_SETTINGS,
  input_format_parallel_parsing: 0,
  optimize_on_insert: 0,
} as const;
