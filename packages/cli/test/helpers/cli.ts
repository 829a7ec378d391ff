import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../../src/bin.ts", import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL("../..", import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process exited. */
  readonly exited: Promise<CliResult>;
  /** The first JSON log line (stderr) whose msg matches. */
  logLine(message: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Environment for CLI children: this process's, minus anything that would point them elsewhere. */
function childEnv(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env))
    if (name.startsWith("TRACEHOUSE_") || name.startsWith("CLICKHOUSE_")) delete env[name];
  return { ...env, ...extra };
}

/** Starts `tracehouse <args>` from the sources (through tsx), output captured. */
export function spawnCli(args: readonly string[], env: Readonly<Record<string, string>> = {}): CliProcess {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
    cwd: PACKAGE_DIR,
    env: childEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<CliResult>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async logLine(message, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        for (const line of stderr.split("\n")) {
          if (!line.startsWith("{")) continue;
          try {
            const entry = JSON.parse(line) as Record<string, unknown>;
            if (entry.msg === message) return entry;
          } catch {
            // A line still being written.
          }
        }
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`tracehouse exited before logging "${message}":\n${stderr}`);
        }
        if (Date.now() > deadline)
          throw new Error(`no "${message}" log line after ${timeoutMs} ms:\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

/** Runs `tracehouse <args>` to completion. */
export function runCli(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<CliResult> {
  return spawnCli(args, env).exited;
}
