import { readFileSync } from "node:fs";
import { ConfigError, isTracehouseError } from "@tracehouse/schemas";
import { Command, CommanderError } from "commander";
import { ExitCode, ExitWith } from "./command-kit.js";
import type { Io } from "./command-kit.js";
import { registerMigrate } from "./commands/migrate.js";
import { registerQuery } from "./commands/query.js";
import { registerRebuild } from "./commands/rebuild.js";
import { registerReceive } from "./commands/receive.js";
import { registerRedrive } from "./commands/redrive.js";
import { registerReplay } from "./commands/replay.js";
import { registerStats } from "./commands/stats.js";
import { registerTopics } from "./commands/topics.js";
import { registerTrace } from "./commands/trace.js";
import { registerUi } from "./commands/ui.js";
import { registerVerify } from "./commands/verify.js";
import { registerWorker } from "./commands/worker.js";
import { escapeControl } from "./terminal-text.js";

export { ExitCode } from "./command-kit.js";
export type { Io } from "./command-kit.js";

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

function buildProgram(io: Io): Command {
  const program = new Command("tracehouse")
    .description("tracehouse: project agent traces from Kafka into ClickHouse, replay, inspect")
    .version(version())
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  for (const register of [
    registerWorker,
    registerReceive,
    registerReplay,
    registerRebuild,
    registerRedrive,
    registerMigrate,
    registerTopics,
    registerVerify,
    registerStats,
    registerTrace,
    registerUi,
    registerQuery,
  ])
    register(program, io);
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
      io.err(`tracehouse: configuration error: ${escapeControl(error.message)}\n`);
      return ExitCode.Usage;
    }
    const name = isTracehouseError(error)
      ? `${error.name} (${error.code})`
      : error instanceof Error
        ? error.name
        : "error";
    io.err(
      `tracehouse: ${escapeControl(name)}: ${escapeControl(error instanceof Error ? error.message : String(error))}\n`,
    );
    return ExitCode.Failed;
  }
}
