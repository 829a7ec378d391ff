// Fault run: steady load from simulated agents (own process) while the broker is killed and
// restarted, the worker process is killed and restarted, and ClickHouse refuses inserts for a
// while; afterwards every accepted event id must be in ClickHouse exactly once.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { EmbeddedSink } from "@tracehouse/clickhouse";
import { localKafkaControl, uniqueName, useKafka } from "@tracehouse/testkit";
import type { LocalKafkaControl } from "@tracehouse/testkit";
import { Kafka, logLevel } from "kafkajs";
import { consumerLag, createCatalogueTopics, deleteCatalogueTopics, pollUntil } from "../harness/index.js";
import { checkDelivery } from "../load/clickhouse-checks.js";
import type { DeliveryCheck } from "../load/clickhouse-checks.js";
import { integerArg } from "../load/cli-args.js";
import { LagSampler } from "../load/lag.js";
import { isLocalBroker } from "../load/processes.js";
import type { AgentProgress, AgentReport } from "../load/protocol.js";
import { spawnAgents } from "../load/spawn-agents.js";
import type { AgentsHandle } from "../load/spawn-agents.js";
import { waitForCatchUp } from "./catch-up.js";
import type { WorkerRunOptions } from "./protocol.js";
import { guardRun } from "./run-guard.js";
import { steadyAgents } from "./steady-agents.js";
import { secondsSince, Timeline } from "./timeline.js";
import { WorkerSupervisor } from "./WorkerSupervisor.js";

const HELP = `Usage: npm run test:faults -- [options]

Steady load (simulated agents, own process) → Kafka → worker process → ClickHouse (embedded),
while these faults are injected, each --rounds times: the sink refuses inserts for a while; the
worker process is killed (SIGKILL) and restarted; the broker is killed (SIGKILL) and restarted;
the worker is killed while the sink refuses inserts; the worker is killed while the broker is down.
Needs the repo's local broker (infra/kafka). Then every accepted event id must be in ClickHouse
exactly once.

  --rate <n>             records/s the agents emit (default 1500)
  --rounds <n>           times each fault is injected (default 2)
  --sink-fault-ms <n>    how long the sink refuses inserts (default 4000)
  --broker-down-ms <n>   how long the broker stays down (default 3000)
  --timeout-s <n>        give up after this long (default 210)
  -h, --help             this text

The last line of output is one JSON object. Exit status 1 on lost or duplicate records.`;

const { values: args } = parseArgs({
  options: {
    rate: { type: "string", default: "1500" },
    rounds: { type: "string", default: "2" },
    "sink-fault-ms": { type: "string", default: "4000" },
    "broker-down-ms": { type: "string", default: "3000" },
    "timeout-s": { type: "string", default: "210" },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}

const rate = integerArg(args, "rate", 1, HELP);
const rounds = integerArg(args, "rounds", 1, HELP);
const sinkFaultMs = integerArg(args, "sink-fault-ms", 1, HELP);
const brokerDownMs = integerArg(args, "broker-down-ms", 0, HELP);
const timeline = new Timeline(integerArg(args, "timeout-s", 1, HELP) * 1000);
const left = (): number => timeline.left();
const record = (event: string): void => timeline.record(event);

// The broker can only be killed and restarted when testkit knows it is the local one, so a
// KAFKA_BROKERS that names the local broker is dropped and anything else is refused.
const fromEnv = process.env["KAFKA_BROKERS"];
if (fromEnv !== undefined && fromEnv !== "") {
  if (!isLocalBroker(fromEnv.split(","))) {
    console.error(
      `faults: this run kills and restarts the broker, so it needs the repo's local broker (infra/kafka); ` +
        `KAFKA_BROKERS is ${fromEnv}. Unset it (and KAFKA_PORT selects the local broker's port).`,
    );
    process.exit(1);
  }
  delete process.env["KAFKA_BROKERS"];
}
let control: LocalKafkaControl;
try {
  control = await localKafkaControl();
} catch (error) {
  console.error(`faults: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
const { brokers } = await useKafka();
const kafka = new Kafka({
  clientId: uniqueName("faults"),
  brokers: [...brokers],
  logLevel: logLevel.NOTHING,
});
const runId = uniqueName("faults");
const catalogue = await createCatalogueTopics(kafka, { prefix: `${runId}.`, partitions: 3 });
const topics = catalogue.all.filter((spec) => spec.recordType !== null).map((spec) => spec.name);
const scratch = mkdtempSync(path.join(tmpdir(), "tracehouse-faults-"));
const idsFile = path.join(scratch, "accepted-ids.txt");
const workerOptions: WorkerRunOptions = {
  brokers,
  topicPrefix: catalogue.prefix,
  groupId: `${runId}_worker`,
  dataDir: path.join(scratch, "chdb"),
  database: runId,
  flushIntervalMs: 500,
};
// Lag samples give up quickly while the broker is away instead of queueing retries.
const lagKafka = new Kafka({
  clientId: uniqueName("faults-lag"),
  brokers: [...brokers],
  logLevel: logLevel.NOTHING,
  connectionTimeout: 1000,
  retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 },
});
const lag = new LagSampler(lagKafka, workerOptions.groupId, topics);
console.log(
  `faults: ${rate} records/s, ${rounds} rounds of (sink refuses inserts ${sinkFaultMs} ms, worker SIGKILL + restart, ` +
    `broker SIGKILL + ${brokerDownMs} ms down + restart, worker killed during a sink fault, worker killed during a ` +
    `broker outage); broker ${brokers.join(",")}\ntimeline (seconds since the start):`,
);

const workers = new WorkerSupervisor(workerOptions, timeline);
let agents: AgentsHandle | undefined;
let producerState = "";
let exitCode = 1;
const faults = { sink: 0, worker_kill: 0, broker_kill: 0 };

const guard = guardRun({ name: "faults", timeoutMs: timeline.timeoutMs });
guard.setCleanup(async () => {
  await lag.stop();
  if (agents !== undefined && agents.child.exitCode === null) agents.child.kill("SIGKILL");
  await Promise.race([workers.killAll(), sleep(10_000)]);
  try {
    control.start();
  } catch (error) {
    console.error(
      `faults: the broker did not come back: ${error instanceof Error ? error.message : String(error)}`,
    );
    exitCode = 1;
  }
  await Promise.race([deleteCatalogueTopics(kafka, catalogue).catch(() => undefined), sleep(10_000)]);
  const admin = kafka.admin();
  await Promise.race([
    admin
      .connect()
      .then(() => admin.deleteGroups([workerOptions.groupId]))
      .catch(() => undefined)
      .finally(() => admin.disconnect()),
    sleep(10_000),
  ]);
  rmSync(scratch, { recursive: true, force: true });
});

const writesResume = (after: string): Promise<void> => workers.writesResume(after);

async function catchUp(): Promise<void> {
  const caught = await waitForCatchUp(kafka, workerOptions.groupId, topics, left());
  record(
    `  caught up (backlog ${caught.backlog}, lag now ${caught.lag}) ${(caught.waitedMs / 1000).toFixed(1)} s later`,
  );
}

async function sinkFaultOn(): Promise<number> {
  const current = workers.pod;
  await current.setSinkFault(true);
  faults.sink++;
  record(`sink fault on: every insert of worker ${current.pid} fails with a retriable SinkError`);
  return current.status?.failedInserts ?? 0;
}

async function killWorker(): Promise<void> {
  await workers.kill();
  faults.worker_kill++;
}

const restartWorker = (): Promise<void> => workers.restart();

function killBroker(): void {
  control.kill();
  faults.broker_kill++;
  record(`broker killed (SIGKILL); producer ${producerState}`);
}

function restartBroker(): void {
  const clock = performance.now();
  control.start();
  record(`  broker restarted and ready ${secondsSince(clock)} s later`);
}

/** The sink refuses inserts for a while: the worker retries, pauses fetching, then catches up. */
async function sinkOutage(): Promise<void> {
  const refusedBefore = await sinkFaultOn();
  await sleep(sinkFaultMs);
  await workers.pod.setSinkFault(false);
  record(
    `  sink fault off after ${sinkFaultMs} ms (${(workers.pod.status?.failedInserts ?? 0) - refusedBefore}+ inserts refused)`,
  );
  await writesResume("the sink fault");
}

async function workerCrash(): Promise<void> {
  await killWorker();
  await restartWorker();
  await writesResume("the worker restart");
}

async function brokerCrash(): Promise<void> {
  killBroker();
  await sleep(brokerDownMs);
  restartBroker();
  await writesResume("the broker restart");
}

/** The worker dies while its inserts fail: what it fetched and buffered must be read again. */
async function workerCrashDuringSinkOutage(): Promise<void> {
  await sinkFaultOn();
  await sleep(sinkFaultMs / 2);
  await killWorker();
  await restartWorker();
  await writesResume("the worker restart");
}

/**
 * The worker dies while the broker is away: rows it inserted then could not be committed, so the
 * next worker inserts them again and the tables must collapse the copies.
 */
async function workerCrashDuringBrokerOutage(): Promise<void> {
  killBroker();
  await sleep(brokerDownMs / 2);
  await killWorker();
  await sleep(brokerDownMs / 2);
  restartBroker();
  await restartWorker();
  await writesResume("the broker and worker restart");
}

try {
  agents = spawnAgents(
    steadyAgents({
      brokers: brokers,
      topicPrefix: catalogue.prefix,
      rate,
      idsFile,
      runId,
      scratch,
    }),
    { onProgress: (progress: AgentProgress) => (producerState = progress.state) },
  );
  const first = workers.start();
  await Promise.all([agents.ready, first.ready]);
  agents.start();
  lag.start();
  record(`load started; worker ${first.pid} joined`);
  await writesResume("the start");

  for (let round = 1; round <= rounds; round++) {
    record(`round ${round} of ${rounds}`);
    for (const fault of [
      sinkOutage,
      workerCrash,
      brokerCrash,
      workerCrashDuringSinkOutage,
      workerCrashDuringBrokerOutage,
    ]) {
      await fault();
      await catchUp();
    }
  }

  agents.stop();
  const report: AgentReport = await agents.done;
  const { producer } = report;
  const drops = Object.entries(producer.dropped)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason} ${n}`);
  record(
    `load stopped: ${report.accepted} records accepted (${producer.spooled} went through the spool, ` +
      `${report.notAccepted} not accepted); producer closed: ${producer.sent - producer.recovered} acknowledged ` +
      `by Kafka, ${producer.spoolBytes} bytes left in the spool, drops: ${drops.join(", ") || "none"}`,
  );
  let lastLag = -1;
  await pollUntil(
    async () => {
      lastLag = (await consumerLag(kafka, workerOptions.groupId, topics)).total;
      return lastLag === 0 ? true : undefined;
    },
    {
      what: "the worker to commit every record",
      timeoutMs: left(),
      intervalMs: 250,
      describe: () => `lag ${lastLag}`,
    },
  );
  record("every record committed by the worker group (lag 0)");
  await lag.stop();
  const exit = await workers.stop();
  record(`worker ${exit.pid} stopped (code ${exit.code}); checking ClickHouse from this process`);

  const sink = new EmbeddedSink({ dataDir: workerOptions.dataDir, database: workerOptions.database });
  let delivery: DeliveryCheck;
  try {
    delivery = await checkDelivery(sink, workerOptions.database, idsFile);
  } finally {
    await sink.close();
  }
  const injected = faults.sink + faults.worker_kill + faults.broker_kill;
  // Killed workers report every 200 ms, so this undercounts a little: a lower bound.
  const reinserted = Math.max(0, workers.written() - delivery.inClickHouse);

  console.log("");
  console.log(
    `consumer lag (records, sampled each second; gaps while the broker was away or this process was blocked restarting it): ${lag.series()}`,
  );
  console.log(
    `the workers inserted ${workers.written()} rows: at least ${reinserted} of them a second time (read again after a crash ` +
      `before their offsets were committed); queries see each once`,
  );
  console.log("ClickHouse, as queries see it (FINAL), per table:");
  for (const t of delivery.tables) {
    console.log(
      `  ${t.table.padEnd(20)} rows ${String(t.rows).padStart(8)}  uniq(event_id) ${String(t.uniqueIds).padStart(8)}  ` +
        `stored ${String(t.storedRows).padStart(8)} (copies a merge will collapse: ${t.storedRows - t.rows})`,
    );
  }
  console.log(
    `accepted ${delivery.accepted} (unique ${delivery.acceptedUnique}), in ClickHouse ${delivery.inClickHouse}, ` +
      `lost ${delivery.lost}, duplicates ${delivery.duplicates}, unexpected ${delivery.unexpected}; ` +
      `faults injected ${injected}, unplanned worker restarts ${workers.unplannedRestarts}`,
  );
  exitCode = delivery.lost + delivery.duplicates + delivery.unexpected > 0 ? 1 : 0;
  console.log(
    JSON.stringify({
      accepted: delivery.accepted,
      in_clickhouse: delivery.inClickHouse,
      lost: delivery.lost,
      duplicates: delivery.duplicates,
      unexpected: delivery.unexpected,
      reinserted_at_least: reinserted,
      collapsed_copies: delivery.collapsedCopies,
      faults_injected: injected,
      faults,
      unplanned_worker_restarts: workers.unplannedRestarts,
      spooled: producer.spooled,
      duration_s: timeline.elapsedS(),
    }),
  );
} catch (error) {
  console.error(`faults: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  await guard.cleanup();
  guard.dispose();
}
process.exitCode = exitCode;
setTimeout(() => process.exit(exitCode), 5000).unref();
