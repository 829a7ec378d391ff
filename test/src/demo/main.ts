/**
 * The tracehouse demo (`npm run demo`): a simulated agent platform publishes its executions,
 * events, metrics, correlations, errors and spans through the producer library to Kafka; a worker
 * running in this process projects them into the embedded ClickHouse engine; then the demo prints
 * one trace (with the worker CLI), per-agent statistics from the materialized views, and figures of
 * the pipeline itself.
 */
import { spawn, spawnSync } from "node:child_process";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { AgentStats, ErrorSummaryRow } from "@tracehouse/clickhouse";
import { createAgentTracer, createExecutionTracker } from "@tracehouse/producer";
import type { ProducerStats } from "@tracehouse/producer";
import { distribution, openPipeline, pollUntil, workerCounts } from "../harness/index.js";
import type { ConsumerLag, Distribution, WorkerCounts } from "../harness/index.js";
import { NotificationHub } from "./notifications.js";
import { runConversation } from "./platform.js";
import type { Conversation, Platform } from "./platform.js";
import { createRandom } from "./random.js";
import { count, ms, percent, renderTable, section } from "./report.js";
import { startToolService } from "./tool-service.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DATA_DIR = join(REPO_ROOT, ".local", "demo", "chdb");
const DATABASE = "tracehouse_demo";
const WORKER_FLUSH_INTERVAL_MS = 500;
const QUERY_POLL_MS = 50;

const DEFAULT_UI_PORT = 7788;

const USAGE = `usage: npm run demo -- [--traces N] [--concurrency N] [--seed N] [--partitions N] [--ui] [--ui-port N]

  --traces N        conversations to simulate, one trace each (default 20)
  --concurrency N   conversations running at once (default 4)
  --seed N          seed of the simulation's random choices (default 7)
  --partitions N    partitions per topic (default: the topic catalogue's recommended layout)
  --ui              then serve the trace explorer over the demo's data until interrupted (Ctrl-C)
  --ui-port N       port of the trace explorer (default ${DEFAULT_UI_PORT})
`;

class UsageError extends Error {}

interface DemoOptions {
  readonly traces: number;
  readonly concurrency: number;
  readonly seed: number;
  readonly partitions: number | null;
  readonly ui: boolean;
  readonly uiPort: number;
}

function positive(name: string, text: string | undefined, fallback: number | null): number | null {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new UsageError(`--${name} must be a positive integer, got ${text}`);
  return value;
}

function parseOptions(argv: readonly string[]): DemoOptions | null {
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

async function runAll<T>(
  total: number,
  concurrency: number,
  run: (index: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array<T>(total);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < total) {
      const index = next++;
      results[index] = await run(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, lane));
  return results;
}

/** The conversation with the most going on: retries, a failed sub-agent, yet an answer. */
function showcase(conversations: readonly Conversation[]): Conversation {
  const score = (c: Conversation): number =>
    (c.retries > 0 ? 2 : 0) + (c.failedAgents.length > 0 && !c.failed ? 2 : 0) + (c.failed ? 0 : 1);
  return [...conversations].sort((a, b) => score(b) - score(a) || a.index - b.index)[0]!;
}

const CLI = (): string => fileURLToPath(new URL("./bin.js", import.meta.resolve("@tracehouse/cli")));

/**
 * `tracehouse ui` over the demo's data, in a child process (the data directory is held by one
 * process); resolves when it exits, after Ctrl-C.
 */
function serveUiWithCli(port: number): Promise<number> {
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
    { stdio: "inherit" },
  );
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
function renderTraceWithCli(traceId: string): string {
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

function agentTable(stats: readonly AgentStats[]): string {
  return renderTable(
    [
      { header: "agent" },
      { header: "started" },
      { header: "failed" },
      { header: "fail %" },
      { header: "p50" },
      { header: "p95" },
      { header: "p99" },
      { header: "ttft p50" },
      { header: "ttft p95" },
      { header: "llm" },
      { header: "tools" },
      { header: "tokens in/out" },
    ],
    stats.map((s) => [
      s.agentName,
      count(s.started),
      count(s.failures),
      percent(s.failures, s.finished),
      ms(s.latencyMs.p50),
      ms(s.latencyMs.p95),
      ms(s.latencyMs.p99),
      ms(s.timeToFirstTokenMs.p50),
      ms(s.timeToFirstTokenMs.p95),
      ms(s.phases.llmProcessingMs),
      ms(s.phases.toolExecutionMs),
      `${count(s.phases.promptTokens)} / ${count(s.phases.completionTokens)}`,
    ]),
  );
}

function errorTable(rows: readonly ErrorSummaryRow[]): string {
  return renderTable(
    [
      { header: "agent" },
      { header: "error class", align: "left" },
      { header: "severity", align: "left" },
      { header: "errors" },
      { header: "retriable" },
      { header: "traces" },
      { header: "example", align: "left" },
    ],
    rows.map((row) => [
      row.agentName ?? "–",
      row.errorClass,
      row.severity,
      count(row.errors),
      count(row.retriableErrors),
      count(row.traces),
      row.sampleMessage.length > 48 ? `${row.sampleMessage.slice(0, 47)}…` : row.sampleMessage,
    ]),
  );
}

interface PipelineFigures {
  readonly producers: readonly { readonly name: string; readonly stats: ProducerStats }[];
  readonly worker: WorkerCounts;
  readonly lag: ConsumerLag;
  readonly latency: Distribution;
}

function pipelineTable(figures: PipelineFigures): string {
  const dropped = (stats: ProducerStats): number => Object.values(stats.dropped).reduce((a, b) => a + b, 0);
  const producerRows = figures.producers.map(({ name, stats }) => [
    `producer ${name}`,
    `${count(stats.accepted)} emitted, ${count(stats.sent)} sent in ${count(stats.batchesSent)} batches, ` +
      `${count(stats.spooled)} spooled, ${count(dropped(stats))} dropped; ` +
      `send latency p50 ${ms(stats.sendLatency.p50Ms)}, p99 ${ms(stats.sendLatency.p99Ms)}`,
  ]);
  const { worker, lag, latency } = figures;
  return renderTable(
    [{ header: "stage" }, { header: "figures", align: "left" }],
    [
      ...producerRows,
      [
        "worker (in-process)",
        `${count(worker.written)} records written as ${count(worker.rows)} rows, ` +
          `${count(worker.commits)} offset commits, ${count(worker.deadLettered)} dead letters`,
      ],
      ["consumer lag at end", `${count(lag.total)} records over ${lag.partitions.length} partitions`],
      [
        "emit → queryable",
        `p50 ${ms(latency.p50)}, p99 ${ms(latency.p99)}, max ${ms(latency.max)} over ${count(latency.count)} records ` +
          `(worker flush interval ${WORKER_FLUSH_INTERVAL_MS} ms, polled every ${QUERY_POLL_MS} ms)`,
      ],
    ],
  );
}

async function main(argv: readonly string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options === null) {
    process.stdout.write(USAGE);
    return 0;
  }
  const out = (text = ""): void => {
    process.stdout.write(`${text}\n`);
  };
  const began = performance.now();
  const wallBegan = Date.now();
  out("tracehouse demo: simulated agent platform → producer → Kafka → worker → ClickHouse (embedded)");

  const pipeline = await openPipeline({
    name: "demo",
    database: DATABASE,
    resetDatabase: true,
    dataDir: DATA_DIR,
    partitions: options.partitions,
    keepDatabase: true,
    worker: { flushIntervalMs: WORKER_FLUSH_INTERVAL_MS },
  });
  let chosen: Conversation;
  let stats: AgentStats[];
  let errors: ErrorSummaryRow[];
  let figures: PipelineFigures;
  try {
    const { setup, catalogue } = pipeline;
    const partitions = catalogue.all.reduce((sum, spec) => sum + spec.partitions, 0);
    out(
      `  kafka ${pipeline.brokers.join(",")}: ${catalogue.all.length} topics ${catalogue.prefix}* ` +
        `(${partitions} partitions) created in ${ms(setup.topicsMs)}`,
    );
    out(
      `  clickhouse: database ${DATABASE} in ${relative(process.cwd(), DATA_DIR) || "."}, ` +
        `${setup.migrations.applied.length} migrations applied in ${ms(setup.migrationsMs)}`,
    );
    out(`  worker joined group ${pipeline.groupId} in ${ms(setup.workerStartMs)}`);

    const platformProducer = pipeline.createProducer({ clientId: "agent-platform" });
    const toolProducer = pipeline.createProducer({ clientId: "tool-service" });
    const platformTracer = createAgentTracer({ producer: platformProducer, tracerName: "agent-platform" });
    const toolTracer = createAgentTracer({ producer: toolProducer, tracerName: "tool-service" });
    const toolService = await startToolService({
      tracker: createExecutionTracker(toolProducer, { tracer: toolTracer }),
      random: createRandom(options.seed + 1),
      failureRate: 0.2,
    });
    const notifications = new NotificationHub();
    const platform: Platform = {
      tracker: createExecutionTracker(platformProducer, { tracer: platformTracer }),
      tracer: platformTracer,
      notifications,
      toolServiceUrl: toolService.url,
      failures: { rateLimit: 0.1, unsupportedClaim: 0.2, contextWindow: 0.1 },
    };

    const watch = pipeline.watchQueryable({ intervalMs: QUERY_POLL_MS });
    const simulated = performance.now();
    const conversations = await runAll(options.traces, options.concurrency, (index) =>
      runConversation(platform, index, createRandom(options.seed * 100_003 + index)),
    );
    const simulationMs = performance.now() - simulated;
    await toolService.close();
    notifications.close();
    await Promise.all([platformTracer.shutdown(), toolTracer.shutdown()]);
    const toolCalls = conversations.reduce((sum, c) => sum + c.toolCalls, 0);
    const retries = conversations.reduce((sum, c) => sum + c.retries, 0);
    const failed = conversations.filter((c) => c.failed).length;
    out(
      `  simulated ${options.traces} conversations (${options.concurrency} at a time) in ${ms(simulationMs)}: ` +
        `${count(toolCalls)} HTTP tool calls, ${count(retries)} retries, ${failed} failed conversations` +
        (notifications.lostContexts > 0
          ? `, ${notifications.lostContexts} notifications lost their trace`
          : ""),
    );

    const waited = performance.now();
    const emitted = pipeline.emitted();
    const queryableAt = await watch.waitFor(emitted, { timeoutMs: 60_000 });
    await watch.stop();
    out(
      `  all ${count(emitted.length)} records queryable ${ms(performance.now() - waited)} after the simulation ended`,
    );
    const latency = distribution(
      emitted.map((record) => queryableAt.get(record.eventId)! - record.emittedAtMs),
    );
    const lag = await pollUntil(
      async () => {
        const current = await pipeline.lag();
        return current.total === 0 ? current : undefined;
      },
      { what: "the worker to commit every offset", timeoutMs: 10_000, intervalMs: 100 },
    ).catch(() => pipeline.lag());

    const range = { from: new Date(wallBegan - 60_000), to: new Date(Date.now() + 60_000) };
    stats = await pipeline.queries.agentStats(range);
    errors = await pipeline.queries.errorSummary(range);
    figures = {
      producers: [
        { name: "agent-platform", stats: platformProducer.stats() },
        { name: "tool-service", stats: toolProducer.stats() },
      ],
      worker: await workerCounts(pipeline.worker),
      lag,
      latency,
    };
    chosen = showcase(conversations);
  } finally {
    await pipeline.close();
  }

  out(section(`one trace: conversation ${chosen.index + 1} (tracehouse trace ${chosen.traceId})`));
  out(renderTraceWithCli(chosen.traceId));
  out(section("agents: agent_hourly_facts (latency and time to first token quantiles, phase sums)"));
  out(agentTable(stats));
  out(section("errors: errors_hourly"));
  out(errorTable(errors));
  out(section("pipeline"));
  out(pipelineTable(figures));
  out();
  out(`done in ${ms(performance.now() - began)}. Look around:`);
  out(
    `  npx tracehouse trace <trace-id> --data-dir ${relative(process.cwd(), DATA_DIR)} --database ${DATABASE}`,
  );
  out(`  npx tracehouse stats --data-dir ${relative(process.cwd(), DATA_DIR)} --database ${DATABASE}`);
  const traceUrl = `http://127.0.0.1:${options.uiPort}/trace/${chosen.traceId}`;
  if (!options.ui) {
    out(`In the browser, serve the trace explorer over this data (until Ctrl-C):`);
    out(
      `  npx tracehouse ui --data-dir ${relative(process.cwd(), DATA_DIR)} --database ${DATABASE}` +
        (options.uiPort === DEFAULT_UI_PORT ? "" : ` --ui-port ${options.uiPort}`),
    );
    out(`  then open ${traceUrl}`);
    out(`  (or run the demo and keep serving: npm run demo -- --ui)`);
    return 0;
  }
  out(`trace explorer: ${traceUrl}  (Ctrl-C stops it)`);
  return serveUiWithCli(options.uiPort);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`demo: ${error.message}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(
      `demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
