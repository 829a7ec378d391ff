import { writeFileSync } from "node:fs";
import path from "node:path";

/** The engine configuration file the embedded sink writes into its data directory. */
export const ENGINE_CONFIG_FILE = "tracehouse-engine.xml";

/**
 * Writes the embedded engine's configuration file and returns the connection argument naming it.
 * MergeTree defaults are server configuration: the engine takes them from a file, not as
 * `--name=value` arguments. Only the first connection of a process starts the engine, so only its
 * file counts.
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
    "  </merge_tree>",
    "</clickhouse>",
    "",
  ].join("\n");
  writeFileSync(file, xml);
  return `--config-file=${file}`;
}
