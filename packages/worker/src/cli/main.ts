import { readFileSync } from "node:fs";
import { ClickHouseTraceSchema, TraceQueries, createSink } from "@tracehouse/clickhouse";
import type { SchemaOptions, Sink } from "@tracehouse/clickhouse";
import { ConfigError, isTracehouseError } from "@tracehouse/schemas";
import { Command, CommanderError, Option } from "commander";
import { WORKER_DEFAULTS } from "../config.js";
import { parseReplayPosition, rebuild, replay } from "../replay.js";
import type { ReplayPosition, ReplayResult } from "../replay.js";
import { RECORD_TABLES } from "../rows.js";
import { createWorker } from "../Worker.js";
import { createCliLogger } from "./logger.js";
import type { CliLogger } from "./logger.js";
import {
  addClickHouseOptions,
  addKafkaOptions,
  addTuningOptions,
  integerOption,
  sinkOptionsFrom,
  workerOptionsFrom,
} from "./options.js";
import type { RawOptions } from "./options.js";
import { ProgressMode, createProgressReporter } from "./progress.js";
import { renderTraceTree } from "./trace-tree.js";

/** Exit codes: 0 done, 1 failed, 2 bad configuration or usage, 130 interrupted twice. */
export const ExitCode = { Ok: 0, Failed: 1, Usage: 2, Interrupted: 130 } as const;

class ExitWith extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

interface Io {
  out(text: string): void;
  err(text: string): void;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

function valueSources(command: Command): Record<string, string | undefined> {
  const sources: Record<string, string | undefined> = {};
  for (const option of command.options) {
    const name = option.attributeName();
    sources[name] = command.getOptionValueSource(name);
  }
  return sources;
}

function addSchemaOptions(command: Command): Command {
  return command
    .optionsGroup("Migrations:")
    .addOption(
      new Option(
        "--cluster <name>",
        "ClickHouse cluster: ON CLUSTER DDL and Replicated engines (default: none)",
      ).env("TRACEHOUSE_CLUSTER"),
    )
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

function schemaOptionsFrom(raw: RawOptions): Omit<SchemaOptions, "logger" | "database"> {
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

function position(raw: RawOptions, name: "from" | "to"): ReplayPosition | undefined {
  const value = raw[name];
  if (typeof value !== "string") return undefined;
  const parsed = parseReplayPosition(value);
  if (parsed === null) {
    throw new ConfigError(
      `--${name}: ${JSON.stringify(value)} is not an offset, earliest, latest, a duration ago (15m, 2h, 7d) or an ISO 8601 time`,
    );
  }
  return parsed;
}

function progressMode(raw: RawOptions): ProgressMode {
  const mode = raw.progress;
  if (mode === "bar" || mode === "log" || mode === "none") return mode;
  return process.stderr.isTTY ? ProgressMode.Bar : ProgressMode.Log;
}

async function withSink<T>(
  raw: RawOptions,
  command: Command,
  use: (sink: Sink, logger: CliLogger) => Promise<T>,
): Promise<T> {
  const logger = createCliLogger(String(raw.logLevel ?? "info"));
  const sink = createSink(sinkOptionsFrom(raw, valueSources(command), logger));
  try {
    return await use(sink, logger);
  } finally {
    await sink.close();
  }
}

function summary(result: ReplayResult): string {
  const seconds = (result.durationMs / 1000).toFixed(1);
  return (
    `replayed ${result.records} records in ${seconds} s: ${result.written} written, ` +
    `${result.deadLettered} dead-lettered, ${result.skipped} skipped (group ${result.groupId})\n`
  );
}

function waitForSignals(onSignal: (signal: NodeJS.Signals, count: number) => void): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals): void => {
    count += 1;
    onSignal(signal, count);
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
  return () => {
    process.off("SIGTERM", handler);
    process.off("SIGINT", handler);
  };
}

function buildProgram(io: Io): Command {
  const program = new Command("tracehouse")
    .description("tracehouse: project agent traces from Kafka into ClickHouse, replay, inspect")
    .version(version())
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  const worker = program
    .command("worker")
    .alias("run")
    .description(
      "consume every record topic into ClickHouse as one member of the worker group; SIGTERM/SIGINT stop it gracefully (stop fetching, flush, commit, leave)",
    );
  addKafkaOptions(worker, `consumer group shared by all worker pods (default: "${WORKER_DEFAULTS.groupId}")`);
  worker.addOption(
    new Option(
      "--no-from-beginning",
      "a group without committed offsets starts at the end of the topics (default: at the earliest record)",
    ).env("TRACEHOUSE_NO_FROM_BEGINNING"),
  );
  addTuningOptions(worker);
  worker
    .optionsGroup("Health:")
    .addOption(
      new Option("--health-port <port>", '/healthz, /readyz and /metrics port; 0 picks one, "off" disables')
        .env("TRACEHOUSE_HEALTH_PORT")
        .default("9464"),
    )
    .addOption(
      new Option("--health-host <host>", "address the health server listens on")
        .env("TRACEHOUSE_HEALTH_HOST")
        .default(WORKER_DEFAULTS.healthHost),
    );
  addSchemaOptions(worker);
  addClickHouseOptions(worker).action(async (raw: RawOptions, command: Command) => {
    const logger = createCliLogger(String(raw.logLevel));
    const instance = createWorker({
      ...workerOptionsFrom(raw),
      fromBeginning: raw.fromBeginning !== false,
      schema: schemaOptionsFrom(raw),
      clickhouse: sinkOptionsFrom(raw, valueSources(command), logger),
      healthPort: raw.healthPort === "off" ? null : integerOption(raw, "healthPort", "health-port"),
      healthHost: typeof raw.healthHost === "string" ? raw.healthHost : undefined,
      logger,
    });
    const stopSignals = waitForSignals((signal, count) => {
      if (count > 1) {
        logger.error("second signal: exiting without flushing", { signal });
        logger.flush();
        process.exit(ExitCode.Interrupted);
      }
      logger.info("stopping: flushing and committing before leaving the group", { signal });
      void instance.stop();
    });
    try {
      await instance.start();
      const address = instance.healthAddress();
      if (address !== null)
        logger.info("health server listening", { ...address, paths: ["/healthz", "/readyz", "/metrics"] });
      await instance.done;
      logger.info("worker stopped");
    } catch (error) {
      await instance.stop();
      throw error;
    } finally {
      stopSignals();
    }
  });

  const replayCommand = program
    .command("replay")
    .description(
      "re-read a range of the record topics into ClickHouse with a consumer group of its own; rows are idempotent, so running it twice changes nothing",
    )
    .requiredOption(
      "--from <position>",
      "first record: an offset (every partition), earliest, a duration ago (90s, 15m, 2h, 7d) or an ISO 8601 time",
    )
    .option(
      "--to <position>",
      "end of the range, exclusive, same forms as --from (default: the log end at start)",
    )
    .addOption(
      new Option(
        "--progress <mode>",
        "bar, log lines or none (default: a bar on a terminal, else log lines)",
      ).choices(["auto", "bar", "log", "none"]),
    )
    .option("--json", "print the result as JSON");
  addKafkaOptions(replayCommand, "the replay's consumer group (default: <client-id>-replay-<epoch ms>)");
  addTuningOptions(replayCommand);
  addSchemaOptions(replayCommand);
  addClickHouseOptions(replayCommand).action(async (raw: RawOptions, command: Command) => {
    const logger = createCliLogger(String(raw.logLevel));
    const reporter = createProgressReporter(progressMode(raw), logger);
    try {
      const result = await replay({
        ...workerOptionsFrom(raw),
        schema: schemaOptionsFrom(raw),
        clickhouse: sinkOptionsFrom(raw, valueSources(command), logger),
        from: position(raw, "from")!,
        to: position(raw, "to"),
        logger,
        onProgress: (progress) => reporter.update(progress),
      });
      reporter.stop();
      io.out(raw.json === true ? JSON.stringify(result) + "\n" : summary(result));
    } finally {
      reporter.stop();
    }
  });

  const rebuildCommand = program
    .command("rebuild")
    .argument("<table>", `one of ${RECORD_TABLES.join(", ")}`)
    .description(
      "truncate one table and replay its records into it (from the earliest record the topics still hold)",
    )
    .option(
      "--from <position>",
      "replay from here instead of the earliest record (same forms as replay --from)",
    )
    .addOption(
      new Option("--progress <mode>", "bar, log lines or none").choices(["auto", "bar", "log", "none"]),
    )
    .option("--json", "print the result as JSON");
  addKafkaOptions(rebuildCommand, "the replay's consumer group (default: <client-id>-replay-<epoch ms>)");
  addTuningOptions(rebuildCommand);
  addSchemaOptions(rebuildCommand);
  addClickHouseOptions(rebuildCommand).action(async (table: string, raw: RawOptions, command: Command) => {
    const logger = createCliLogger(String(raw.logLevel));
    const reporter = createProgressReporter(progressMode(raw), logger);
    const { tables: _tables, ...options } = workerOptionsFrom(raw);
    try {
      const result = await rebuild(table, {
        ...options,
        schema: schemaOptionsFrom(raw),
        clickhouse: sinkOptionsFrom(raw, valueSources(command), logger),
        from: position(raw, "from"),
        logger,
        onProgress: (progress) => reporter.update(progress),
      });
      reporter.stop();
      io.out(raw.json === true ? JSON.stringify(result) + "\n" : summary(result));
    } finally {
      reporter.stop();
    }
  });

  const migrate = program
    .command("migrate")
    .description(
      "apply the ClickHouse migrations: create the tracehouse tables and views (safe to run again)",
    )
    .option("--json", "print the report as JSON");
  addSchemaOptions(migrate);
  addClickHouseOptions(migrate).action((raw: RawOptions, command: Command) =>
    withSink(raw, command, async (sink) => {
      const report = await new ClickHouseTraceSchema(sink, schemaOptionsFrom(raw)).createTables();
      io.out(
        raw.json === true
          ? JSON.stringify({ database: sink.database, ...report }) + "\n"
          : `database ${sink.database}: applied [${report.applied.join(", ")}], already applied [${report.alreadyApplied.join(", ")}]\n`,
      );
    }),
  );

  const verify = program
    .command("verify")
    .description(
      "check that every tracehouse table, view, column and index exists; exit 1 when something is missing",
    )
    .option("--json", "print the verification as JSON");
  addClickHouseOptions(verify).action((raw: RawOptions, command: Command) =>
    withSink(raw, command, async (sink) => {
      const verification = await new ClickHouseTraceSchema(sink).verifySchema();
      if (raw.json === true) io.out(JSON.stringify(verification) + "\n");
      else {
        for (const [name, table] of Object.entries(verification.tables)) {
          io.out(
            `${table.ok ? "ok     " : "MISSING"} ${name}${table.ok ? "" : `: ${table.missing.join(", ")}`}\n`,
          );
        }
        io.out(
          verification.ok
            ? `schema of ${sink.database} is complete\n`
            : `schema of ${sink.database} is incomplete\n`,
        );
      }
      if (!verification.ok) throw new ExitWith(ExitCode.Failed);
    }),
  );

  const stats = program
    .command("stats")
    .description("rows, distinct records, parts and sizes of the tracehouse tables")
    .option("--json", "print the statistics as JSON");
  addClickHouseOptions(stats).action((raw: RawOptions, command: Command) =>
    withSink(raw, command, async (sink) => {
      const tables = await new ClickHouseTraceSchema(sink).getTableStats();
      const records: Record<string, number> = {};
      for (const table of RECORD_TABLES) {
        if (tables[table] === undefined) continue;
        const [row] = await sink.query<{ n: number }>(
          `SELECT uniqExact(event_id) AS n FROM ${sink.database}.${table}`,
        );
        records[table] = Number(row?.n ?? 0);
      }
      if (raw.json === true) {
        io.out(JSON.stringify({ database: sink.database, tables, records }) + "\n");
        return;
      }
      io.out(`database ${sink.database}\n`);
      io.out(
        `${"table".padEnd(28)}${"records".padStart(12)}${"rows".padStart(12)}${"parts".padStart(7)}${"on disk".padStart(12)}\n`,
      );
      for (const [name, table] of Object.entries(tables)) {
        const distinct = records[name] === undefined ? "" : String(records[name]);
        const mb = `${(table.bytesOnDisk / 1024 / 1024).toFixed(2)} MB`;
        io.out(
          `${name.padEnd(28)}${distinct.padStart(12)}${String(table.rows).padStart(12)}${String(table.parts).padStart(7)}${mb.padStart(12)}\n`,
        );
      }
    }),
  );

  const trace = program
    .command("trace")
    .argument("<trace-id>", "32 hex characters")
    .description("print a trace's execution tree with timings, events, errors, metrics and spans")
    .option("--json", "print the tree as JSON");
  addClickHouseOptions(trace).action((traceId: string, raw: RawOptions, command: Command) =>
    withSink(raw, command, async (sink) => {
      const tree = await new TraceQueries(sink).getTrace(traceId.trim().toLowerCase());
      if (tree === null) {
        io.err(`trace ${traceId} not found in ${sink.database}\n`);
        throw new ExitWith(ExitCode.Failed);
      }
      io.out(raw.json === true ? JSON.stringify(tree, null, 2) + "\n" : renderTraceTree(tree));
    }),
  );

  const query = program
    .command("query")
    .argument("<sql>", "a SELECT; tables written database-qualified, e.g. tracehouse.agent_events")
    .description(
      "run SQL on the sink and print rows as JSON lines (the embedded engine's data directory has one reader at a time)",
    );
  addClickHouseOptions(query).action((sql: string, raw: RawOptions, command: Command) =>
    withSink(raw, command, async (sink) => {
      for (const row of await sink.query(sql)) io.out(JSON.stringify(row) + "\n");
    }),
  );

  return program;
}

/** Runs the CLI on `argv` (as process.argv) and returns the exit code. */
export async function main(
  argv: readonly string[],
  io: Io = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  },
): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv]);
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof ExitWith) return error.code;
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    if (error instanceof ConfigError) {
      io.err(`tracehouse: configuration error: ${error.message}\n`);
      return ExitCode.Usage;
    }
    const name = isTracehouseError(error)
      ? `${error.name} (${error.code})`
      : error instanceof Error
        ? error.name
        : "error";
    io.err(`tracehouse: ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return ExitCode.Failed;
  }
}
