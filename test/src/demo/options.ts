// The demo's command line and the fixed places and pace of its pipeline.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const DATA_DIR = join(REPO_ROOT, ".local", "demo", "chdb");
export const DATABASE = "tracehouse_demo";
export const WORKER_FLUSH_INTERVAL_MS = 500;
export const QUERY_POLL_MS = 50;

export const DEFAULT_UI_PORT = 7788;

export const USAGE = `usage: npm run demo -- [--traces N] [--concurrency N] [--seed N] [--partitions N] [--ui] [--ui-port N]

  --traces N        conversations to simulate, one trace each (default 20)
  --concurrency N   conversations running at once (default 4)
  --seed N          seed of the simulation's random choices (default 7)
  --partitions N    partitions per topic (default: the topic catalogue's recommended layout)
  --ui              then serve the trace explorer over the demo's data until interrupted (Ctrl-C)
  --ui-port N       port of the trace explorer (default ${DEFAULT_UI_PORT})
`;

export class UsageError extends Error {}

export interface DemoOptions {
  readonly traces: number;
  readonly concurrency: number;
  readonly seed: number;
  readonly partitions: number | null;
  readonly ui: boolean;
  readonly uiPort: number;
}

export function positive(name: string, text: string | undefined, fallback: number | null): number | null {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new UsageError(`--${name} must be a positive integer, got ${text}`);
  return value;
}

export function parseOptions(argv: readonly string[]): DemoOptions | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        traces: { type: "string" },
        concurrency: { type: "string" },
        seed: { type: "string" },
        partitions: { type: "string" },
        ui: { type: "boolean" },
        "ui-port": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  if (values.help === true) return null;
  return {
    traces: positive("traces", values.traces, 20) ?? 20,
    concurrency: positive("concurrency", values.concurrency, 4) ?? 4,
    seed: positive("seed", values.seed, 7) ?? 7,
    partitions: positive("partitions", values.partitions, null),
    ui: values.ui === true,
    uiPort: positive("ui-port", values["ui-port"], DEFAULT_UI_PORT) ?? DEFAULT_UI_PORT,
  };
}
