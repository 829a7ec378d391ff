import { readFileSync } from "node:fs";
import { Command } from "commander";
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

/** The `tracehouse` program with every command registered; it prints through `io`. */
export function buildProgram(io: Io): Command {
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
