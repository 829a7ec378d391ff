// Simulated agents in a process of their own: they run traces through the producer library
// (tracker, OTel spans) and report to the parent over IPC. Started by spawnAgents().
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { setImmediate as yieldToLoop, setTimeout as sleep } from "node:timers/promises";
import { TraceContext } from "@tracehouse/context";
import { createAgentTracer, createExecutionTracker, isAccepted } from "@tracehouse/producer";
import type { Execution } from "@tracehouse/producer";
import { AgentEventKind, RecordType, createTopicCatalogue } from "@tracehouse/schemas";
import { TABLE_OF_RECORD_TYPE } from "@tracehouse/clickhouse";
import type { RecordTable } from "@tracehouse/clickhouse";
import { distribution, wallClockMs } from "../harness/index.js";
import { EmitAttribution } from "./emit-attribution.js";
import type { EmitWindow } from "./emit-attribution.js";
import type { AgentMessage, AgentRunOptions, ParentMessage, Sentinel } from "./protocol.js";
import { SENTINEL_KEY_COLUMNS } from "./SentinelWatch.js";
import { ThreadSchedStat } from "./thread-sched.js";
import { TimedProducer } from "./TimedProducer.js";
import type { TimedEmit } from "./TimedProducer.js";

const AGENT_NAMES = ["planner", "researcher", "coder", "reviewer", "support"] as const;
const TOOLS = ["web_search", "sql_query", "code_exec", "fetch_url"] as const;
const MODELS = ["small-model", "large-model"] as const;
/** Sentinel records rotate over the three busiest tables. */
const SENTINEL_TYPES = [RecordType.Event, RecordType.Execution, RecordType.Metrics] as const;
const ID_FLUSH_COUNT = 8192;

function send(message: AgentMessage): void {
  if (process.connected) process.send?.(message);
}

const options = JSON.parse(process.argv[2] ?? "null") as AgentRunOptions | null;
if (options === null || process.send === undefined) {
  console.error("agents-process: run by spawnAgents() with the run options as argument");
  process.exit(2);
}

const ids = createWriteStream(options.idsFile, { flags: "a" });
let pendingIds: string[] = [];
function flushIds(): void {
  if (pendingIds.length === 0) return;
  ids.write(`${pendingIds.join("\n")}\n`);
  pendingIds = [];
}

const acceptedByTable: Record<string, number> = {};
const wanted = new Map<string, RecordType>();
let sentinels: Sentinel[] = [];
let accepted = 0;
let notAccepted = 0;
let firstEmitAt = Number.NaN;
let lastEmitAt = Number.NaN;

const emitCostsUs: number[] = [];
/** Where emit's time goes, for runs that report progress often (the cluster fault run). */
const attribution =
  options.progressEveryMs === undefined ? null : new EmitAttribution(ThreadSchedStat.open());

function sentinelKeys(table: RecordTable, record: TimedEmit): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const column of SENTINEL_KEY_COLUMNS[table]) {
    if (column === "event_id") keys[column] = record.eventId;
    else if (column === "trace_id") keys[column] = record.traceId;
    else if (column === "span_id") keys[column] = String(record.fields["span_id"] ?? record.context?.spanId);
    else keys[column] = String(record.fields[column] ?? "");
  }
  return keys;
}

function observe(record: TimedEmit): void {
  emitCostsUs.push(record.costUs);
  attribution?.observe(record.startedAt, record.costUs, record.waitUs, record.descheduled);
  if (Number.isNaN(firstEmitAt)) firstEmitAt = record.startedAt;
  lastEmitAt = record.startedAt;
  if (!isAccepted(record.result)) {
    notAccepted++;
    return;
  }
  accepted++;
  const table = TABLE_OF_RECORD_TYPE[record.type];
  acceptedByTable[table] = (acceptedByTable[table] ?? 0) + 1;
  pendingIds.push(record.eventId);
  if (pendingIds.length >= ID_FLUSH_COUNT) flushIds();
  if (wanted.size > 0 && wanted.get(record.traceId) === record.type) {
    wanted.delete(record.traceId);
    sentinels.push({
      eventId: record.eventId,
      table,
      keys: sentinelKeys(table, record),
      emittedAtMs: performance.timeOrigin + record.startedAt,
    });
  }
}

const producer = new TimedProducer(
  {
    brokers: options.brokers,
    clientId: options.clientId,
    topics: createTopicCatalogue({ prefix: options.topicPrefix }),
    spool: { dir: options.spoolDir },
    compression: options.compression,
    closeTimeoutMs: options.closeTimeoutMs,
  },
  observe,
  attribution?.sched ?? null,
);
const tracer = createAgentTracer({ producer });
const tracker = createExecutionTracker(producer, { tracer });
/** Closed loop: the agents wait while a full batch is already queued, so the backlog sits in Kafka, not in memory. */
const queueLimit = producer.config.maxBatchRecords;

let stopRequested = false;
let tracesStarted = 0;
let tracesDone = 0;

async function emitEvents(run: Execution, count: number, seed: number): Promise<void> {
  let left = count;
  for (let step = seed; left > 0; step++) {
    const kind = step % 4;
    if (kind === 0 && left >= 2) {
      const tool = run.startToolCall(TOOLS[step % TOOLS.length]!, { region: "eu-west-1" });
      tool.end({ status: "ok", payloadBytes: 2048 });
      left -= 2;
    } else if (kind === 1 && left >= 3) {
      const llm = run.startLlmCall(MODELS[step % MODELS.length]!);
      llm.firstToken();
      llm.end({ status: "ok", usage: { promptTokens: 812, completionTokens: 95 } });
      left -= 3;
    } else if (kind === 2) {
      run.recordWebSocketNotification("session-updates", {
        durationMs: 0.4,
        latencyMs: 12,
        payloadBytes: 512,
      });
      left -= 1;
    } else {
      run.recordEvent(AgentEventKind.Custom, "checkpoint", { attributes: { step: String(step) } });
      left -= 1;
    }
    if (left > 0 && step % 3 === 2) await yieldToLoop();
  }
}

async function runTrace(index: number): Promise<void> {
  const request = TraceContext.create({ userId: `user-${index % 997}` });
  if (options!.sentinelEvery > 0 && index % options!.sentinelEvery === 0) {
    const type = SENTINEL_TYPES[(index / options!.sentinelEvery) % SENTINEL_TYPES.length]!;
    wanted.set(request.traceId, type);
  }
  const run = tracker.startExecution(request, {
    agentName: AGENT_NAMES[index % AGENT_NAMES.length]!,
    input: `request ${index}`,
  });
  await emitEvents(run, options!.eventsPerTrace, index);
  if (index % 10 === 5) {
    const child = run.startChild("researcher", { input: `sub-question of ${index}` });
    await emitEvents(child, 2, index + 1);
    child.complete(`findings for ${index}`);
  }
  if (index % 50 === 7) {
    run.fail(new Error(`tool timed out in trace ${index}`), { phase: "tool_execution" });
  } else {
    run.complete(`answer ${index}`, { usage: { promptTokens: 1200, completionTokens: 240 } });
  }
  wanted.delete(request.traceId);
}

let queueCheckedAt = Number.NEGATIVE_INFINITY;
let queueFull = false;

/** Open-loop pacing to `rate` records/s, or (rate 0) waiting while a full batch is queued. */
async function pace(startedAt: number): Promise<void> {
  if (options!.rate > 0) {
    const dueMs = startedAt + (accepted + notAccepted) * (1000 / options!.rate);
    const aheadMs = dueMs - performance.now();
    if (aheadMs > 1) await sleep(aheadMs);
    return;
  }
  for (;;) {
    // stats() builds a snapshot (latency percentiles included): once a millisecond is plenty.
    const now = performance.now();
    if (now - queueCheckedAt >= 1) {
      queueFull = producer.stats().queuedRecords >= queueLimit;
      queueCheckedAt = now;
    }
    if (!queueFull) return;
    await sleep(1);
  }
}

function more(startedAt: number): boolean {
  if (stopRequested) return false;
  if (options!.traces !== null && tracesStarted >= options!.traces) return false;
  return options!.durationMs === null || performance.now() - startedAt < options!.durationMs;
}

async function agentLoop(startedAt: number): Promise<void> {
  while (more(startedAt)) {
    await pace(startedAt);
    if (!more(startedAt)) return;
    const index = tracesStarted++;
    await runTrace(index);
    tracesDone++;
    await yieldToLoop();
  }
}

let cpuAtStart: NodeJS.CpuUsage | undefined;
function cpuMs(): number {
  const { user, system } = process.cpuUsage(cpuAtStart);
  return (user + system) / 1000;
}

const tenth = (values: readonly number[]): number[] => values.map((us) => Math.round(us * 10) / 10);

function emitWindow(): EmitWindow | null {
  if (attribution === null) return null;
  const window = attribution.take();
  return {
    ...window,
    emitUs: tenth(window.emitUs),
    emitUsOutsideGc: tenth(window.emitUsOutsideGc),
    emitNetUs: tenth(window.emitNetUs),
    emitUsOnCore: tenth(window.emitUsOnCore),
    probeUs: tenth(window.probeUs),
    probeNetUs: tenth(window.probeNetUs),
  };
}

function progress(): void {
  const stats = producer.stats();
  send({
    type: "progress",
    progress: {
      accepted,
      traces: tracesDone,
      queuedRecords: stats.queuedRecords,
      spooled: stats.spooled,
      state: stats.state,
      sent: stats.sent,
      emitWindow: emitWindow(),
    },
  });
}

async function run(): Promise<void> {
  cpuAtStart = process.cpuUsage();
  const startedAt = performance.now();
  const reporter = setInterval(() => {
    if (sentinels.length > 0) {
      send({ type: "sentinels", sentinels });
      sentinels = [];
    }
    flushIds();
  }, 20);
  const progressTimer = setInterval(progress, options!.progressEveryMs ?? 1000);
  attribution?.start();
  try {
    await Promise.all(Array.from({ length: options!.agents }, () => agentLoop(startedAt)));
  } finally {
    clearInterval(reporter);
    clearInterval(progressTimer);
    attribution?.stop();
  }
  if (sentinels.length > 0) send({ type: "sentinels", sentinels });
  await tracer.shutdown();
  send({ type: "emitted", accepted, lastEmitAtMs: performance.timeOrigin + lastEmitAt });
  await producer.close();
  const closedAtMs = wallClockMs();
  const cpuMsUsed = cpuMs();
  flushIds();
  ids.end();
  await once(ids, "finish");
  const stats = producer.stats();
  send({
    type: "done",
    report: {
      traces: tracesDone,
      accepted,
      notAccepted,
      acceptedByTable,
      emitUs: distribution(emitCostsUs),
      firstEmitAtMs: performance.timeOrigin + firstEmitAt,
      lastEmitAtMs: performance.timeOrigin + lastEmitAt,
      closedAtMs,
      producer: stats,
      cpuMs: cpuMsUsed,
    },
  });
}

process.on("message", (message: ParentMessage) => {
  if (message.type === "stop") stopRequested = true;
  if (message.type === "start") {
    run().then(
      () => process.disconnect?.(),
      (error: unknown) => {
        send({
          type: "failed",
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
        process.disconnect?.();
      },
    );
  }
});
process.on("disconnect", () => {
  stopRequested = true;
});
send({ type: "ready" });
