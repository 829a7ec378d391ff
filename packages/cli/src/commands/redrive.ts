import { ConfigError } from "@tracehouse/schemas";
import { DeadLetterReason, parseReplayPosition, redrive } from "@tracehouse/worker";
import type { RedriveResult } from "@tracehouse/worker";
import type { Command } from "commander";
import { Option } from "commander";
import { addClickHouseOptions, loggerFrom } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { SCHEMA, schemaOptionsFrom, sinkOptionsFrom } from "../options/clickhouse.js";
import { addOptions, splitList, valueSources } from "../options/spec.js";
import type { RawOptions } from "../options/spec.js";
import { addKafkaOptions, addTuningOptions, workerOptionsFrom } from "../options/worker.js";
import { createProgressReporter } from "../progress.js";
import { progressMode } from "./replay.js";

const REASONS: readonly string[] = Object.values(DeadLetterReason);

/** `--since`/`--until`: a duration ago (15m, 2h, 7d) or an ISO 8601 time, as epoch ms. */
export function timeOption(raw: RawOptions, name: "since" | "until", now = Date.now()): number | undefined {
  const value = raw[name];
  if (typeof value !== "string") return undefined;
  const position = parseReplayPosition(value, now);
  if (position === null || !("timeMs" in position)) {
    throw new ConfigError(
      `--${name}: ${JSON.stringify(value)} is not a duration ago (90s, 15m, 2h, 7d) or an ISO 8601 time`,
    );
  }
  return position.timeMs;
}

export function reasonsOption(raw: RawOptions): string[] | undefined {
  const reasons = typeof raw.reason === "string" ? splitList(raw.reason) : undefined;
  for (const reason of reasons ?? []) {
    if (!REASONS.includes(reason)) {
      throw new ConfigError(`--reason: ${JSON.stringify(reason)} is not one of ${REASONS.join(", ")}`);
    }
  }
  return reasons;
}

export function redriveSummary(result: RedriveResult): string {
  const seconds = (result.durationMs / 1000).toFixed(1);
  return (
    `redrove ${result.read} dead letters in ${seconds} s: ${result.written} written, ` +
    `${result.stillDead} still dead, ${result.skipped} skipped\n`
  );
}

export function registerRedrive(program: Command, io: Io): void {
  const command = program
    .command("redrive")
    .description(
      "after an upgrade, write dead letters (by reason and time) back through the worker's chain; records that fail again stay where they are, rows are idempotent, so running it twice changes nothing",
    )
    .option(
      "--reason <list>",
      `comma-separated dead-letter reasons to redrive: ${REASONS.join(", ")} (default: all)`,
    )
    .option(
      "--since <time>",
      "only dead letters written at or after this time: a duration ago (90s, 15m, 2h, 7d) or an ISO 8601 time (default: the oldest held)",
    )
    .option("--until <time>", "only dead letters written before this time, same forms (default: now)")
    .option(
      "--schemas-topic <topic>",
      "compacted topic of writer schemas, read to resolve unknown fingerprints (default: <prefix>schemas)",
    )
    .addOption(
      new Option(
        "--progress <mode>",
        "bar, log lines or none (default: a bar on a terminal, else log lines)",
      ).choices(["auto", "bar", "log", "none"]),
    )
    .option("--json", "print the result as JSON");
  addKafkaOptions(command, {
    doc: "ignored: redrive reads with a throwaway group of its own",
    defaultText: "none",
  });
  addTuningOptions(command);
  addOptions(command, SCHEMA);
  addClickHouseOptions(command).action(async (raw: RawOptions, self: Command) => {
    const logger = loggerFrom(raw);
    const sources = valueSources(self);
    const reporter = createProgressReporter(progressMode(raw), logger, 5000, "redrive");
    const { groupId: _groupId, topics: _topics, ...options } = workerOptionsFrom(raw, process.env, sources);
    try {
      const result = await redrive({
        ...options,
        ...(typeof raw.schemasTopic === "string" ? { schemasTopic: raw.schemasTopic } : {}),
        schema: schemaOptionsFrom(raw, sources),
        clickhouse: sinkOptionsFrom(raw, sources, logger),
        reasons: reasonsOption(raw),
        sinceMs: timeOption(raw, "since"),
        untilMs: timeOption(raw, "until"),
        logger,
        onProgress: (progress) => reporter.update(progress),
      });
      reporter.stop();
      io.out(raw.json === true ? JSON.stringify(result) + "\n" : redriveSummary(result));
    } finally {
      reporter.stop();
    }
  });
}
