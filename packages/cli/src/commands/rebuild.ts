import { RECORD_TABLES, rebuild } from "@tracehouse/worker";
import type { Command } from "commander";
import { Option } from "commander";
import { addSchemaOptions, schemaOptionsFrom, valueSources } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { createCliLogger } from "../logger.js";
import {
  addClickHouseOptions,
  addKafkaOptions,
  addTuningOptions,
  sinkOptionsFrom,
  workerOptionsFrom,
} from "../options.js";
import type { RawOptions } from "../options.js";
import { createProgressReporter } from "../progress.js";
import { position, progressMode, summary } from "./replay.js";
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
      io.out(raw.json === true ? safeJson(result) + "\n" : escapeControl(summary(result).trimEnd()) + "\n");
    } finally {
      reporter.stop();
    }
  });
}
