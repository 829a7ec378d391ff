// One worker pod for the fault run: the real worker on the embedded engine, through a sink whose
// inserts fail while a fault is switched on (SIGUSR2 toggles it). SIGTERM stops it gracefully.
import { ClickHouseTraceSchema, EmbeddedSink } from "@tracehouse/clickhouse";
import type { Logger } from "@tracehouse/schemas";
import type { Worker } from "@tracehouse/worker";
import { startWorker } from "../harness/index.js";
import { rowsWritten } from "../load/worker-metrics.js";
import { FaultySink } from "./FaultySink.js";
import type { WorkerMessage, WorkerRunOptions } from "./protocol.js";

/** Sends a message; resolves once it is handed to the channel (so it survives an exit right after). */
function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || process.send === undefined) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

const options = JSON.parse(process.argv[2] ?? "null") as WorkerRunOptions | null;
if (options === null || process.send === undefined) {
  console.error("worker-process: started by the fault run with its options as argument");
  process.exit(2);
}

const real = new EmbeddedSink({ dataDir: options.dataDir, database: options.database });
const sink = new FaultySink(real);
let worker: Worker | null = null;
let stopping = false;

process.on("SIGUSR2", () => {
  sink.setFailing(!sink.failing);
  void send({ type: "fault", failing: sink.failing });
});

async function stop(code: number): Promise<never> {
  stopping = true;
  await worker?.stop().catch(() => undefined);
  await reportStatus().catch(() => undefined);
  await real.close();
  process.exit(code);
}

process.on("SIGTERM", () => void stop(0));
process.on("disconnect", () => void stop(0));

async function reportStatus(): Promise<void> {
  if (worker === null) return;
  const status = worker.status();
  const written = [...(await rowsWritten(worker)).values()].reduce((sum, rows) => sum + rows, 0);
  await send({
    type: "status",
    status: {
      written,
      retrying: status.insertRetrying,
      state: status.state,
      failing: sink.failing,
      failedInserts: sink.failedInserts,
    },
  });
}

function log(level: string, message: string, fields?: Readonly<Record<string, unknown>>): void {
  // kafkajs logs every failed connection to a broker that is down: the faults make plenty
  if (fields?.["namespace"] === "Connection" && message.startsWith("Connection")) return;
  let details = "";
  try {
    details = fields === undefined ? "" : ` ${JSON.stringify(fields)}`;
  } catch {
    // fields that cannot be serialised are left out
  }
  console.error(`worker ${process.pid} ${level}: ${message}${details}`);
}
/** The worker's warnings and errors go to the run's output (a rejoin, a failing commit, a consumer restart). */
const logger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message, fields) => log("warn", message, fields),
  error: (message, fields) => log("error", message, fields),
};

try {
  await new ClickHouseTraceSchema(real).createTables();
  worker = await startWorker({
    brokers: options.brokers,
    topicPrefix: options.topicPrefix,
    groupId: options.groupId,
    sink,
    flushIntervalMs: options.flushIntervalMs,
    retryBaseDelayMs: 100,
    retryMaxDelayMs: 1000,
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 500,
    rebalanceTimeoutMs: 10_000,
    shutdownTimeoutMs: 20_000,
    logger,
  });
  await send({ type: "ready" });
  setInterval(() => void reportStatus(), 200).unref();
  await worker.done;
  if (!stopping) await stop(0);
} catch (error) {
  if (!stopping) {
    await send({
      type: "failed",
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    await stop(1);
  }
}
