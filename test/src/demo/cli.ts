// The tracehouse CLI run on the demo's stored data, in child processes: the embedded engine's data
// directory is held by one process at a time.
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DATA_DIR, DATABASE } from "./options.js";

const CLI = (): string => fileURLToPath(new URL("./bin.js", import.meta.resolve("@tracehouse/cli")));

/** What `tracehouse ui` prints once it listens. */
const LISTENING = "trace explorer on ";

/**
 * `tracehouse ui` over the demo's data, in a child process (the data directory is held by one
 * process); calls `onListening` once it answers, and resolves when it exits, after Ctrl-C.
 */
export function serveUiWithCli(port: number, onListening: () => void): Promise<number> {
  const child = spawn(
    process.execPath,
    [
      CLI(),
      "ui",
      "--data-dir",
      DATA_DIR,
      "--database",
      DATABASE,
      "--ui-port",
      String(port),
      "--log-level",
      "warn",
    ],
    { stdio: ["inherit", "pipe", "inherit"] },
  );
  let seen: string | null = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    process.stdout.write(chunk);
    if (seen === null) return;
    seen = (seen + chunk).slice(-4096);
    if (seen.includes(LISTENING)) {
      seen = null;
      onListening();
    }
  });
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  return new Promise((resolve) => {
    child.on("exit", (code) => {
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      resolve(code ?? 0);
    });
  });
}

/** The worker CLI's `trace` command on the stored data: it needs the data directory to itself. */
export function renderTraceWithCli(traceId: string): string {
  const cli = CLI();
  const run = spawnSync(
    process.execPath,
    [cli, "trace", traceId, "--data-dir", DATA_DIR, "--database", DATABASE],
    {
      encoding: "utf8",
    },
  );
  if (run.status !== 0) throw new Error(`tracehouse trace exited ${run.status}: ${run.stderr}`);
  return run.stdout.trimEnd();
}
