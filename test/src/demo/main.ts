/**
 * The tracehouse demo (`npm run demo`): a simulated agent platform publishes its executions,
 * events, metrics, correlations, errors and spans through the producer library to Kafka; a worker
 * running in this process projects them into the embedded ClickHouse engine; then the demo prints
 * one trace (with the worker CLI), per-agent statistics from the materialized views, and figures of
 * the pipeline itself.
 */
import { relative } from "node:path";
import type { AgentStats, ErrorSummaryRow } from "@tracehouse/clickhouse";
import { createAgentTracer, createExecutionTracker } from "@tracehouse/producer";
import { distribution, openPipeline, pollUntil, workerCounts } from "../harness/index.js";
import { renderTraceWithCli, serveUiWithCli } from "./cli.js";
import { NotificationHub } from "./notifications.js";
import {
  DATA_DIR,
  DATABASE,
  DEFAULT_UI_PORT,
  QUERY_POLL_MS,
  USAGE,
  UsageError,
  WORKER_FLUSH_INTERVAL_MS,
  parseOptions,
} from "./options.js";
import { runConversation } from "./platform.js";
import type { Conversation, Platform } from "./platform.js";
import { createRandom } from "./random.js";
import { ms, count, section } from "./report.js";
import { agentTable, errorTable, pipelineTable } from "./tables.js";
import type { PipelineFigures } from "./tables.js";
import { startToolService } from "./tool-service.js";

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
    `  npx tracehouse trace ${chosen.traceId} --data-dir ${relative(process.cwd(), DATA_DIR)} --database ${DATABASE}`,
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
  return serveUiWithCli(options.uiPort, () => out(`trace explorer: ${traceUrl}  (Ctrl-C stops it)`));
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
