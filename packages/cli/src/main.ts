import { ConfigError, isTracehouseError } from "@tracehouse/schemas";
import { CommanderError } from "commander";
import { ExitCode, ExitWith } from "./command-kit.js";
import type { Io } from "./command-kit.js";
import { buildProgram } from "./program.js";
import { escapeControl } from "./terminal-text.js";

export { ExitCode } from "./command-kit.js";
export type { Io } from "./command-kit.js";
export { optionReference } from "./options/reference.js";
export type { OptionReference, OptionReferenceRow } from "./options/reference.js";

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
