import type { Sink, SinkOptions } from "@tracehouse/clickhouse";
import { createSink, throughDistributed } from "@tracehouse/clickhouse";
import type { Command } from "commander";
import { createCliLogger } from "./logger.js";
import type { CliLogger } from "./logger.js";
import { CLICKHOUSE, LOGGING, SCHEMA, sinkOptionsFrom } from "./options/clickhouse.js";
import { addOptions, readOptions, valueSources } from "./options/spec.js";
import type { RawOptions } from "./options/spec.js";

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

/** The ClickHouse and logging options, last in every command that opens a sink. */
export function addClickHouseOptions(command: Command): Command {
  return addOptions(addOptions(command, CLICKHOUSE), LOGGING);
}

/** The logger at the level of `--log-level`. */
export function loggerFrom(raw: RawOptions): CliLogger {
  return createCliLogger(readOptions(LOGGING, raw).logLevel ?? "info");
}

/** Runs `use` with a sink made from the ClickHouse options, closed afterwards. */
export async function withSink<T>(
  raw: RawOptions,
  command: Command,
  use: (sink: Sink, logger: CliLogger) => Promise<T>,
  overrides: Pick<SinkOptions, "readOnly" | "maxExecutionTimeS" | "maxRetries"> = {},
): Promise<T> {
  const logger = loggerFrom(raw);
  const sources = valueSources(command);
  const sink = createSink({ ...sinkOptionsFrom(raw, sources, logger), ...overrides });
  try {
    // On a cluster, rows are read through the Distributed tables (DDL is unchanged).
    const { cluster } = readOptions(SCHEMA, raw, sources);
    return await use(throughDistributed(sink, cluster ?? null), logger);
  } finally {
    await sink.close();
  }
}
