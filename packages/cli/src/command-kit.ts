import type { SchemaOptions, Sink, SinkOptions } from "@tracehouse/clickhouse";
import { createSink, throughDistributed } from "@tracehouse/clickhouse";
import { Option } from "commander";
import type { Command } from "commander";
import { createCliLogger } from "./logger.js";
import type { CliLogger } from "./logger.js";
import { integerOption, sinkOptionsFrom } from "./options.js";
import type { RawOptions } from "./options.js";

/** Exit codes: 0 done, 1 failed, 2 bad configuration or usage, 130 interrupted twice. */
export const ExitCode = { Ok: 0, Failed: 1, Usage: 2, Interrupted: 130 } as const;

/** Thrown by a command to end with a given exit code (the message is already printed). */
export class ExitWith extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Where a command prints: standard output for results, standard error for messages. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** Where each option's value came from ("cli", "env", "default"), by attribute name. */
export function valueSources(command: Command): Record<string, string | undefined> {
  const sources: Record<string, string | undefined> = {};
  for (const option of command.options) {
    const name = option.attributeName();
    sources[name] = command.getOptionValueSource(name);
  }
  return sources;
}

/** `--cluster`: ON CLUSTER DDL and Replicated engines, and the Distributed `_all` tables for rows. */
export function clusterOption(): Option {
  return new Option(
    "--cluster <name>",
    "ClickHouse cluster: ON CLUSTER DDL, Replicated engines, rows through the Distributed _all tables (default: none)",
  ).env("TRACEHOUSE_CLUSTER");
}

export function addSchemaOptions(command: Command): Command {
  return command
    .optionsGroup("Migrations:")
    .addOption(clusterOption())
    .addOption(
      new Option("--ttl-days <days>", 'days rows are kept, or "none" (default: 90)').env(
        "TRACEHOUSE_TTL_DAYS",
      ),
    )
    .addOption(
      new Option(
        "--dedup-window <blocks>",
        "insert blocks remembered for deduplication per table (default: 1000)",
      ).env("TRACEHOUSE_DEDUP_WINDOW"),
    );
}

export function schemaOptionsFrom(raw: RawOptions): Omit<SchemaOptions, "logger" | "database"> {
  const options: { cluster?: string; ttlDays?: number | null; dedupWindow?: number } = {};
  if (typeof raw.cluster === "string") options.cluster = raw.cluster;
  if (raw.ttlDays === "none") options.ttlDays = null;
  else {
    const ttlDays = integerOption(raw, "ttlDays", "ttl-days");
    if (ttlDays !== undefined) options.ttlDays = ttlDays;
  }
  const dedupWindow = integerOption(raw, "dedupWindow", "dedup-window");
  if (dedupWindow !== undefined) options.dedupWindow = dedupWindow;
  return options;
}

/** Runs `use` with a sink made from the ClickHouse options, closed afterwards. */
export async function withSink<T>(
  raw: RawOptions,
  command: Command,
  use: (sink: Sink, logger: CliLogger) => Promise<T>,
  overrides: Pick<SinkOptions, "readOnly" | "maxExecutionTimeS" | "maxRetries"> = {},
): Promise<T> {
  const logger = createCliLogger(String(raw.logLevel ?? "info"));
  const sink = createSink({ ...sinkOptionsFrom(raw, valueSources(command), logger), ...overrides });
  try {
    // On a cluster, rows are read through the Distributed tables (DDL is unchanged).
    return await use(throughDistributed(sink, typeof raw.cluster === "string" ? raw.cluster : null), logger);
  } finally {
    await sink.close();
  }
}
