import { RECORD_TABLES } from "@tracehouse/clickhouse";
import { rebuild } from "@tracehouse/worker";
import type { Command } from "commander";
import { Option } from "commander";
import { addClickHouseOptions, loggerFrom } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { SCHEMA, schemaOptionsFrom, sinkOptionsFrom } from "../options/clickhouse.js";
import { addOptions, valueSources } from "../options/spec.js";
import type { RawOptions } from "../options/spec.js";
import { addKafkaOptions, addTuningOptions, workerOptionsFrom } from "../options/worker.js";
import { createProgressReporter } from "../progress.js";
import { REPLAY_GROUP, position, progressMode, summary } from "./replay.js";
import { escapeControl, safeJson } from "../terminal-text.js";

export function registerRebuild(program: Command, io: Io): void {
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
  addKafkaOptions(rebuildCommand, REPLAY_GROUP);
  addTuningOptions(rebuildCommand);
  addOptions(rebuildCommand, SCHEMA);
  addClickHouseOptions(rebuildCommand).action(async (table: string, raw: RawOptions, command: Command) => {
    const logger = loggerFrom(raw);
    const sources = valueSources(command);
    const reporter = createProgressReporter(progressMode(raw), logger);
    const { tables: _tables, ...options } = workerOptionsFrom(raw, process.env, sources);
    try {
      const result = await rebuild(table, {
        ...options,
        schema: schemaOptionsFrom(raw, sources),
        clickhouse: sinkOptionsFrom(raw, sources, logger),
        from: position(raw, "from"),
        logger,
        onProgress: (progress) => reporter.update(progress),
      });
      reporter.stop();
      io.out(raw.json === true ? safeJson(result) + "\n" : escapeControl(summary(result).trimEnd()) + "\n");
    } finally {
      reporter.stop();
    }
  });
}
