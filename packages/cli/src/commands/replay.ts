import { ConfigError } from "@tracehouse/schemas";
import { parseReplayPosition, replay } from "@tracehouse/worker";
import type { ReplayPosition, ReplayResult } from "@tracehouse/worker";
import type { Command } from "commander";
import { Option } from "commander";
import { addClickHouseOptions, loggerFrom } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { SCHEMA, schemaOptionsFrom, sinkOptionsFrom } from "../options/clickhouse.js";
import { addOptions, valueSources } from "../options/spec.js";
import type { RawOptions } from "../options/spec.js";
import { addKafkaOptions, addTuningOptions, workerOptionsFrom } from "../options/worker.js";
import { ProgressMode, createProgressReporter } from "../progress.js";
import { escapeControl, safeJson } from "../terminal-text.js";

/** What `--group-id` means for a replay: a group of its own (the worker library names it). */
export const REPLAY_GROUP = {
  doc: "the replay's consumer group",
  defaultText: "<client-id>-replay-<epoch ms>",
} as const;

export function position(raw: RawOptions, name: "from" | "to"): ReplayPosition | undefined {
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

export function progressMode(raw: RawOptions): ProgressMode {
  const mode = raw.progress;
  if (mode === "bar" || mode === "log" || mode === "none") return mode;
  return process.stderr.isTTY ? ProgressMode.Bar : ProgressMode.Log;
}

export function summary(result: ReplayResult): string {
  const seconds = (result.durationMs / 1000).toFixed(1);
  return (
    `replayed ${result.records} records in ${seconds} s: ${result.written} written, ` +
    `${result.deadLettered} dead-lettered, ${result.skipped} skipped (group ${result.groupId})\n`
  );
}

export function registerReplay(program: Command, io: Io): void {
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
  addKafkaOptions(replayCommand, REPLAY_GROUP);
  addTuningOptions(replayCommand);
  addOptions(replayCommand, SCHEMA);
  addClickHouseOptions(replayCommand).action(async (raw: RawOptions, command: Command) => {
    const logger = loggerFrom(raw);
    const sources = valueSources(command);
    const reporter = createProgressReporter(progressMode(raw), logger);
    try {
      const result = await replay({
        ...workerOptionsFrom(raw, process.env, sources),
        schema: schemaOptionsFrom(raw, sources),
        clickhouse: sinkOptionsFrom(raw, sources, logger),
        from: position(raw, "from")!,
        to: position(raw, "to"),
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
