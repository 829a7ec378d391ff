import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { createWorker } from "@tracehouse/worker";
import { REPO_ROOT } from "./deployment-files.js";

/** The worker image's entry point (infra/Dockerfile runs `node <this>`). */
export const WORKER_CLI = join(REPO_ROOT, "packages", "cli", "dist", "bin.js");

export interface CliOption {
  readonly flag: string;
  readonly env: string | null;
  /** The default the help shows, unquoted; null when it shows none. */
  readonly defaultValue: string | null;
}

export interface CliCommand {
  readonly name: string;
  readonly options: ReadonlyMap<string, CliOption>;
  /** Env variable → its option. */
  readonly env: ReadonlyMap<string, CliOption>;
}

function runCli(args: readonly string[]): string {
  const run = spawnSync(process.execPath, [WORKER_CLI, ...args], {
    encoding: "utf8",
    env: { PATH: process.env["PATH"] },
  });
  if (run.status !== 0) {
    throw new Error(`tracehouse ${args.join(" ")} exited ${run.status}: ${run.stderr}${run.stdout}`);
  }
  return run.stdout;
}

/** The commands `tracehouse --help` lists. */
export function cliCommands(): string[] {
  const help = runCli(["--help"]);
  const section = help.split(/^Commands:$/m)[1] ?? "";
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)(?:\|[a-z-]+)?\b/gm)].map((match) => match[1]!);
}

/** A command's options as its `--help` prints them: flag, env variable, default. */
export function cliCommand(name: string): CliCommand {
  const help = runCli([name, "--help"]);
  const options = new Map<string, CliOption>();
  const env = new Map<string, CliOption>();
  // One entry per option: from its flag at the start of a line up to the next flag or heading.
  const entries = help.split(/\n(?= {2}-|\S)/);
  for (const entry of entries) {
    const flag = /^\s*(?:-\w, )?(--[a-z][a-z0-9-]*)/.exec(entry)?.[1];
    if (flag === undefined) continue;
    const text = entry.replace(/\s+/g, " ");
    const option: CliOption = {
      flag,
      env: /\benv: ([A-Z][A-Z0-9_]*)\)/.exec(text)?.[1] ?? null,
      defaultValue: /\bdefault: "?([^",)]*)"?[,)]/.exec(text)?.[1] ?? null,
    };
    options.set(flag, option);
    if (option.env !== null) env.set(option.env, option);
  }
  // Secrets without a flag (a flag would show them in `ps`): "  NAME  text (env only)" lines.
  for (const match of help.matchAll(/^ {2}([A-Z][A-Z0-9_]*) .*\(env only\)$/gm)) {
    env.set(match[1]!, { flag: "(env only)", env: match[1]!, defaultValue: null });
  }
  return { name, options, env };
}

export interface WorkerMetric {
  readonly name: string;
  readonly type: string;
  readonly labelNames: readonly string[];
}

/** The metrics a worker registers, read from a real worker's Prometheus registry (nothing is started). */
export async function workerMetrics(): Promise<Map<string, WorkerMetric>> {
  const worker = createWorker({ brokers: ["127.0.0.1:9"] });
  const metrics = new Map<string, WorkerMetric>();
  for (const { name, type } of await worker.registry.getMetricsAsJSON()) {
    const { labelNames } = worker.registry.getSingleMetric(name) as unknown as {
      labelNames?: readonly string[];
    };
    metrics.set(name, { name, type: String(type), labelNames: labelNames ?? [] });
  }
  await worker.stop();
  return metrics;
}

export type SchemaObjectKind = "table" | "view" | "materialized view";

/** Tables and views the ClickHouse migrations create, by name. */
export function migrationObjects(): Map<string, SchemaObjectKind> {
  const dir = join(REPO_ROOT, "packages", "clickhouse", "migrations");
  const objects = new Map<string, SchemaObjectKind>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith(".sql"))) {
    const sql = readFileSync(join(dir, file), "utf8");
    for (const match of sql.matchAll(
      /CREATE\s+(TABLE|MATERIALIZED\s+VIEW|VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?\{\{database\}\}\.(\w+)/gi,
    )) {
      objects.set(match[2]!, match[1]!.toLowerCase().replace(/\s+/g, " ") as SchemaObjectKind);
    }
  }
  return objects;
}

/** A setting's effective value: the environment's, else the CLI's default. */
export function effective(
  command: CliCommand,
  env: ReadonlyMap<string, string | null>,
  name: string,
): string {
  const value = env.get(name);
  if (value !== undefined && value !== null) return value;
  const fallback = command.env.get(name)?.defaultValue;
  if (fallback === undefined || fallback === null) throw new Error(`${name} has no value and no default`);
  return fallback;
}

/** Throws unless the CLI is built: every deployment test reads its `--help`. */
export function requireBuiltCli(): void {
  if (!existsSync(WORKER_CLI)) {
    throw new Error(`${relative(REPO_ROOT, WORKER_CLI)} is missing: build the worker (npm run build)`);
  }
}
