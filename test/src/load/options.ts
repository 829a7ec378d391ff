// The load benchmark's command line: parsed once into a complete, checked set of options.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { Compression } from "@tracehouse/producer";
import type { WorkerOptions } from "@tracehouse/worker";
import { integerArg } from "./cli-args.js";

export const HELP = `Usage: npm run bench:e2e -- [options]

Producer (simulated agents, own process) → Kafka → worker → ClickHouse (embedded), measured.

  --traces <n>             traces to run (default 10000)
  --events-per-trace <n>   agent events per trace, besides lifecycle and metrics records (default 8)
  --agents <n>             concurrent simulated agents (default 16)
  --rate <n>               records/s offered, paced open loop (past what the pipeline takes, the producer
                           spools and may drop); 0 = closed loop, the agents waiting while a full producer
                           batch is queued: capacity, so emit-to-queryable includes the Kafka backlog
                           (default 0)
  --compression <c>        producer compression: gzip (the library's default), lz4 or none
  --partitions <n>         partitions per record topic (default 6)
  --sentinel-every <n>     one emit-to-queryable sentinel per n traces (default 20)
  --batch-rows <n>         worker maxBatchRows, also the direct-insert batch size (default 10000)
  --flush-interval-ms <n>  worker flushIntervalMs (default 1000)
  --worker-options <json>  more worker options, e.g. '{"maxBufferedBytes":16777216}' (default none)
  --poll-ms <n>            how often the worker's rows counter is read to trigger a sentinel lookup (default 2)
  --timeout-s <n>          give up after this long (default: from the record count)
  --no-direct              skip the direct-insert baseline
  --cpu-profile <dir>      write V8 CPU profiles of the worker and agents processes there, print the top functions
  -h, --help               this text

The last line of output is one JSON object. Exit status 1 on lost or duplicate records.`;

export interface LoadOptions {
  readonly traces: number;
  readonly eventsPerTrace: number;
  readonly agentCount: number;
  readonly rate: number;
  readonly partitions: number;
  readonly sentinelEvery: number;
  readonly batchRows: number;
  readonly flushIntervalMs: number;
  readonly pollMs: number;
  readonly compression: Compression;
  readonly extraWorkerOptions: WorkerOptions;
  /** Where CPU profiles go (created), or undefined. */
  readonly profileDir: string | undefined;
  readonly direct: boolean;
  readonly timeoutMs: number;
}

/** The options of this run; prints the help and exits on --help, exits 2 on a bad value. */
export function parseLoadOptions(argv: readonly string[] = process.argv.slice(2)): LoadOptions {
  const { values: args } = parseArgs({
    args: [...argv],
    options: {
      traces: { type: "string", default: "10000" },
      "events-per-trace": { type: "string", default: "8" },
      agents: { type: "string", default: "16" },
      rate: { type: "string", default: "0" },
      partitions: { type: "string", default: "6" },
      compression: { type: "string", default: "gzip" },
      "sentinel-every": { type: "string", default: "20" },
      "batch-rows": { type: "string", default: "10000" },
      "flush-interval-ms": { type: "string", default: "1000" },
      "poll-ms": { type: "string", default: "2" },
      "timeout-s": { type: "string" },
      "no-direct": { type: "boolean", default: false },
      "cpu-profile": { type: "string" },
      "worker-options": { type: "string", default: "{}" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (args.help) {
    console.log(HELP);
    process.exit(0);
  }
  const integer = (name: keyof typeof args, min: number): number => integerArg(args, name, min, HELP);
  const traces = integer("traces", 1);
  const eventsPerTrace = integer("events-per-trace", 0);
  const compression = [Compression.None, Compression.Gzip, Compression.Lz4].find(
    (candidate) => candidate === args.compression,
  );
  if (compression === undefined) {
    console.error(`--compression must be gzip, lz4 or none, got ${args.compression}\n\n${HELP}`);
    process.exit(2);
  }
  const profileDir = args["cpu-profile"] === undefined ? undefined : path.resolve(args["cpu-profile"]);
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
  const approxRecords = traces * (eventsPerTrace + 4);
  return {
    traces,
    eventsPerTrace,
    agentCount: integer("agents", 1),
    rate: integer("rate", 0),
    partitions: integer("partitions", 1),
    sentinelEvery: integer("sentinel-every", 0),
    batchRows: integer("batch-rows", 1),
    flushIntervalMs: integer("flush-interval-ms", 1),
    pollMs: integer("poll-ms", 1),
    compression,
    extraWorkerOptions: parseWorkerOptions(args["worker-options"]),
    profileDir,
    direct: !args["no-direct"],
    timeoutMs:
      (args["timeout-s"] === undefined ? 120 + approxRecords / 2000 : integer("timeout-s", 1)) * 1000,
  };
}

function parseWorkerOptions(json: string): WorkerOptions {
  try {
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
      return parsed as WorkerOptions;
  } catch {
    // reported below
  }
  console.error(`--worker-options must be a JSON object of worker options, got ${json}\n\n${HELP}`);
  process.exit(2);
}
