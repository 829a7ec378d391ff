import { writeFileSync } from "node:fs";
import path from "node:path";

/** The engine configuration file the embedded sink writes into its data directory. */
export const ENGINE_CONFIG_FILE = "tracehouse-engine.xml";

/**
 * Writes the embedded engine's configuration file and returns the connection argument naming it.
 * MergeTree defaults are server configuration: the engine takes them from a file, not as
 * `--name=value` arguments. Only the first connection of a process starts the engine, so only its
 * file counts.
 *
 * Merges are vertical whatever the parts' size: the sorting key's columns first, then each other
 * column on its own, so a merge holds one column's granules at a time instead of every column's.
 * ClickHouse does that only from 131,072 rows and 11 columns; the worker's parts are 10,000-row
 * inserts, merged while the next ones are written, so their merges held all columns at once.
 */
export function engineConfigArgument(
  dataDir: string,
  config: { readonly indexGranularityBytes: number },
): string {
  const file = path.join(dataDir, ENGINE_CONFIG_FILE);
  const xml = [
    "<clickhouse>",
    "  <merge_tree>",
    `    <index_granularity_bytes>${config.indexGranularityBytes}</index_granularity_bytes>`,
    "    <vertical_merge_algorithm_min_rows_to_activate>1</vertical_merge_algorithm_min_rows_to_activate>",
    "    <vertical_merge_algorithm_min_columns_to_activate>1</vertical_merge_algorithm_min_columns_to_activate>",
    "  </merge_tree>",
    "</clickhouse>",
    "",
  ].join("\n");
  writeFileSync(file, xml);
  return `--config-file=${file}`;
}
