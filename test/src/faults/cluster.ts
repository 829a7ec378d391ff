// Cluster fault run: three brokers (replication factor 3, min.insync.replicas 2) under steady load
// from simulated agents through producer, worker and the embedded engine, while the leader of busy
// partitions is killed again and again, one broker is stopped for good, and all three are restarted
// one after another. Afterwards every accepted event id must be in ClickHouse exactly once.
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, setPriority, tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { EmbeddedSink } from "@tracehouse/clickhouse";
import { CLUSTER_NODES, startKafkaCluster, stopKafkaCluster, uniqueName } from "@tracehouse/testkit";
import type { ClusterNode, KafkaCluster } from "@tracehouse/testkit";
import { Kafka, logLevel } from "kafkajs";
import { createCatalogueTopics, deleteCatalogueTopics, pollUntil, quantile } from "../harness/index.js";
import { checkDelivery } from "../load/clickhouse-checks.js";
import { integerArg } from "../load/cli-args.js";
import type { AgentProgress } from "../load/protocol.js";
import { spawnAgents } from "../load/spawn-agents.js";
import type { AgentsHandle } from "../load/spawn-agents.js";
import { waitForCatchUp } from "./catch-up.js";
import { describeEmits, FailoverMeter, round } from "./failover.js";
import { guardRun } from "./run-guard.js";
import { steadyAgents } from "./steady-agents.js";
import { Timeline } from "./timeline.js";
import type { WorkerRunOptions } from "./protocol.js";
import { WorkerSupervisor } from "./WorkerSupervisor.js";
import { heal, inOwnNetworkNamespace, rerunInOwnNetworkNamespace } from "./partition.js";
import { networkPartition } from "./partition-step.js";

const HELP = `Usage: npm run test:faults -- --cluster [options]

Steady load (simulated agents, own process) → a local three-node Kafka cluster (infra/kafka/cluster.sh;
replication factor 3, min.insync.replicas 2) → worker process → ClickHouse (embedded), while: the
leader of a busy partition is killed (SIGKILL) and restarted, --leader-kills times; one broker is
stopped and the load goes on without it for --down-s seconds; then all three are restarted one
after another (SIGTERM, start, wait until every replica is back in sync). Then every accepted event
id must be in ClickHouse exactly once. Interrupted (Ctrl-C, SIGTERM) or past its timeout, the run
stops the cluster and every process it started.

  --rate <n>           records/s the agents emit (default 1500)
  --leader-kills <n>   leader kills (default 4)
  --down-s <n>         seconds one broker stays down for good (default 15)
  --timeout-s <n>      give up after this long (default 420)
  --partition-s <n>    at the end, cut the leader of a busy partition off the network (its ports
                       dropped on loopback, the process left running) for this long, then heal
                       it; the run then runs in a network namespace of its own (needs root,
                       unshare, ip and tc). Default 0: no partition.
  --nice <n>           niceness of the brokers, the worker and this process; the agents, whose
                       emit is measured, stay at the caller's (default 10; 0 runs all alike)
  -h, --help           this text

The cluster listens on KAFKA_CLUSTER_PORT (default 29092) and the two ports after each node's.
The last line of output is one JSON object. Exit status 1 on lost or duplicate records.`;

const { values: args } = parseArgs({
  options: {
    cluster: { type: "boolean", default: true },
    rate: { type: "string", default: "1500" },
    "leader-kills": { type: "string", default: "4" },
    "down-s": { type: "string", default: "15" },
    "timeout-s": { type: "string", default: "420" },
    nice: { type: "string", default: "10" },
    "partition-s": { type: "string", default: "0" },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
const rate = integerArg(args, "rate", 1, HELP);
const leaderKills = integerArg(args, "leader-kills", 1, HELP);
const downMs = integerArg(args, "down-s", 1, HELP) * 1000;
const nice = integerArg(args, "nice", 0, HELP, 19);
const partitionMs = integerArg(args, "partition-s", 0, HELP) * 1000;
if (partitionMs > 0 && !inOwnNetworkNamespace()) {
  rerunInOwnNetworkNamespace();
  await new Promise<never>(() => undefined); // it exits with the run inside
}
/** Emits are measured from this long after the load starts (JIT warm-up, the worker's first inserts). */
const WARM_UP_MS = 10_000;
const STEADY_MS = 5000;
const timeline = new Timeline(integerArg(args, "timeout-s", 30, HELP) * 1000);
const left = (): number => timeline.left();
const record = (event: string): void => timeline.record(event);

let cluster: KafkaCluster | null = null;
let agents: AgentsHandle | undefined;
let workers: WorkerSupervisor | null = null;
let scratch: string | null = null;
let removeTopics: () => Promise<void> = () => Promise.resolve();
const guard = guardRun({ name: "cluster faults", timeoutMs: timeline.timeoutMs });
guard.setCleanup(async () => {
  heal();
  if (agents !== undefined && agents.child.exitCode === null) agents.child.kill("SIGKILL");
  await Promise.race([workers?.killAll(), sleep(10_000)]);
  await Promise.race([removeTopics().catch(() => undefined), sleep(10_000)]);
  // without the handle too: an interrupt may come while the cluster is still starting
  if (cluster !== null) cluster.shutdown();
  else stopKafkaCluster();
  if (scratch !== null) rmSync(scratch, { recursive: true, force: true });
});

// set up in the try below, so that a failure there still stops what was started
let nodes!: KafkaCluster;
let kafka!: Kafka;
let topics!: string[];
let busyTopic!: string;
let idsFile!: string;
let workerOptions!: WorkerRunOptions;
const meter = new FailoverMeter();
let exitCode = 1;

async function catchUp(): Promise<string> {
  const caught = await waitForCatchUp(kafka, workerOptions.groupId, topics, left());
  return `worker caught up with a backlog of ${caught.backlog} in ${(caught.waitedMs / 1000).toFixed(1)} s`;
}

/** Every replica of every partition of the busy topic is back in sync. */
async function fullyReplicated(): Promise<void> {
  let isr: number[][] = [];
  await pollUntil(
    async () => {
      isr = [];
      for (let partition = 0; partition < 3; partition++) {
        isr.push(await nodes.inSyncReplicas(busyTopic, partition).catch(() => []));
      }
      return isr.every((replicas) => replicas.length === 3) ? true : undefined;
    },
    {
      what: `every replica of ${busyTopic} back in sync`,
      timeoutMs: left(),
      intervalMs: 250,
      describe: () => `in-sync replicas per partition ${JSON.stringify(isr)}`,
    },
  );
}

async function leaderOfBusyPartition(): Promise<ClusterNode> {
  return pollUntil(async () => (await nodes.leaderOf(busyTopic, 0).catch(() => null)) ?? undefined, {
    what: `a leader for ${busyTopic}[0]`,
    timeoutMs: left(),
    intervalMs: 100,
  });
}

/** Kills or stops `node` and measures how long deliveries stall and what emit costs meanwhile. */
async function failover(node: ClusterNode, how: "kill" | "stop", label: string): Promise<void> {
  const mark = meter.begin(label);
  // a graceful stop takes seconds: blocking this process meanwhile would hold up the agents'
  // reports and stamp them all at once when it ends, hiding the stall and most of its emits
  if (how === "kill") nodes.kill(node);
  else await nodes.stopAsync(node);
  const elected = await pollUntil(
    async () => {
      const leader = await nodes.leaderOf(busyTopic, 0).catch(() => null);
      return leader !== null && leader !== node ? leader : undefined;
    },
    {
      what: `a new leader of ${busyTopic}[0] after node ${node} went away`,
      timeoutMs: left(),
      intervalMs: 50,
    },
  );
  const stall = await meter.end(mark, left());
  record(
    `${label}: node ${node} ${how === "kill" ? "killed (SIGKILL)" : "stopped (SIGTERM)"}; node ${elected} leads; ` +
      `deliveries stalled ${stall.stallMs.toFixed(0)} ms; ${describeEmits(stall)}`,
  );
}

const worst = (values: readonly (number | null)[]): number | null => {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : Math.max(...known);
};

try {
  console.log(`cluster faults: starting the three-node cluster (infra/kafka/cluster.sh) at nice ${nice}`);
  // the nodes inherit it through cluster.sh, also when restarted
  process.env["KAFKA_NICE"] = String(nice);
  cluster = startKafkaCluster();
  nodes = cluster;
  kafka = new Kafka({
    clientId: uniqueName("cluster-faults"),
    brokers: [...nodes.brokers],
    logLevel: logLevel.NOTHING,
  });
  const runId = uniqueName("cfaults");
  const catalogue = await createCatalogueTopics(kafka, {
    prefix: `${runId}.`,
    partitions: 3,
    replicationFactor: 3,
    configEntries: [{ name: "min.insync.replicas", value: "2" }],
  });
  removeTopics = () => deleteCatalogueTopics(kafka, catalogue);
  topics = catalogue.all.filter((spec) => spec.recordType !== null).map((spec) => spec.name);
  busyTopic = catalogue.topicFor("event");
  scratch = mkdtempSync(path.join(tmpdir(), "tracehouse-cluster-faults-"));
  idsFile = path.join(scratch, "accepted-ids.txt");
  workerOptions = {
    brokers: nodes.brokers,
    topicPrefix: catalogue.prefix,
    groupId: `${runId}_worker`,
    dataDir: path.join(scratch, "chdb"),
    database: runId,
    flushIntervalMs: 500,
    nice,
  };

  agents = spawnAgents(
    steadyAgents({
      brokers: nodes.brokers,
      topicPrefix: catalogue.prefix,
      rate,
      idsFile,
      runId,
      scratch,
      progressEveryMs: 50,
    }),
    { onProgress: (progress: AgentProgress) => meter.observe(progress) },
  );
  // this process's thread (polls, IPC, the meter) yields to the agents too; it was their parent at 0
  setPriority(nice);
  // a worker that exits on its own is restarted, as an orchestrator would, and reported
  workers = new WorkerSupervisor(workerOptions, timeline);
  const first = workers.start();
  await Promise.race([
    Promise.all([agents.ready, first.ready]),
    sleep(left()).then(() => {
      throw new Error("the agents and the worker did not start before the timeout");
    }),
  ]);
  agents.start();
  record(`load started at ${rate} records/s; brokers ${nodes.brokers.join(",")}`);
  await sleep(WARM_UP_MS);
  const steadyFrom = performance.now();
  await sleep(STEADY_MS);
  const steady = meter.between(steadyFrom, performance.now());
  record(
    `  steady state (${STEADY_MS / 1000} s after a ${WARM_UP_MS / 1000} s warm-up): ${describeEmits(steady)}`,
  );

  for (let kill = 1; kill <= leaderKills; kill++) {
    const leader = await leaderOfBusyPartition();
    await failover(leader, "kill", `leader kill ${kill}/${leaderKills}`);
    await sleep(2000);
    nodes.start(leader);
    await fullyReplicated();
    record(`  node ${leader} back, every replica in sync; ${await catchUp()}`);
  }

  const gone = await leaderOfBusyPartition();
  await failover(gone, "kill", "one broker down for good");
  await sleep(downMs);
  record(`  ${downMs / 1000} s on two brokers (min.insync.replicas 2 still met)`);
  nodes.start(gone);
  await fullyReplicated();

  for (const node of CLUSTER_NODES) {
    await failover(node, "stop", `rolling restart, node ${node}`);
    nodes.start(node);
    await fullyReplicated();
  }
  record(`rolling restart done; ${await catchUp()}`);
  const partition =
    partitionMs > 0
      ? await networkPartition(
          {
            nodes,
            workers,
            groupId: workerOptions.groupId,
            busyTopic,
            meter,
            timeline,
            leaderOfBusyPartition,
            fullyReplicated,
            catchUp,
          },
          partitionMs,
        )
      : null;

  agents.stop();
  const report = await Promise.race([
    agents.done,
    sleep(left()).then(() => {
      throw new Error("the agents did not close their producer before the timeout");
    }),
  ]);
  await waitForCatchUp(kafka, workerOptions.groupId, topics, left());
  const exit = await workers.stop();
  record(`load stopped, ${report.accepted} records accepted; worker stopped (code ${exit.code})`);

  const sink = new EmbeddedSink({ dataDir: workerOptions.dataDir, database: workerOptions.database });
  const delivery = await checkDelivery(sink, workerOptions.database, idsFile).finally(() => sink.close());
  const results = meter.results;
  const stalls = results.map((r) => r.stallMs);
  const elections = meter.pooled();
  record(`all failovers: ${describeEmits(elections)}`);
  console.log(
    `accepted ${delivery.accepted}, in ClickHouse ${delivery.inClickHouse}, lost ${delivery.lost}, ` +
      `duplicates ${delivery.duplicates}, unexpected ${delivery.unexpected}`,
  );
  exitCode = delivery.lost + delivery.duplicates + delivery.unexpected > 0 ? 1 : 0;
  console.log(
    JSON.stringify({
      accepted: delivery.accepted,
      in_clickhouse: delivery.inClickHouse,
      lost: delivery.lost,
      duplicates: delivery.duplicates,
      unexpected: delivery.unexpected,
      failovers: results.length,
      failover_stall_p50_ms: round(quantile(stalls, 0.5)),
      failover_stall_p99_ms: round(quantile(stalls, 0.99)),
      failover_stall_ms: stalls.map((s) => Math.round(s)),
      // every emit from a fault to the end of its stall, all failovers pooled
      emit_p99_us_during_elections: round(elections.emitP99Us),
      emits_during_elections: elections.emits,
      // each emit less the time its thread waited for a core meanwhile (pre-empted), as the kernel counted it
      emit_p99_us_during_elections_net_of_waits: round(elections.emitP99UsNet),
      // only the emits during which the thread never left its core
      emit_p99_us_during_elections_on_core: round(elections.emitP99UsOnCore),
      emits_off_core_during_elections: elections.emitsDescheduled,
      // the emits reported while the producer was degraded (sending failed, spooling)
      emit_p99_us_during_elections_degraded: round(elections.emitP99UsDegraded),
      emit_p99_us_during_elections_degraded_net_of_waits: round(elections.emitP99UsDegradedNet),
      emits_degraded_during_elections: elections.emitsDegraded,
      // the worst single failover's p99 (a failover with few emits makes this one noisy)
      emit_p99_us_worst_failover: round(worst(results.map((r) => r.emitP99Us))),
      // the same without the emits a garbage-collection pause fell into
      emit_p99_us_during_elections_outside_gc: round(elections.emitP99UsOutsideGc),
      emits_in_gc_during_elections: elections.emitsInGc,
      // a fixed, allocation-free computation run in line after every 8th emit: what the machine adds
      probe_p50_us_during_elections: round(elections.probeP50Us),
      probe_p99_us_during_elections: round(elections.probeP99Us),
      probe_p99_us_during_elections_net_of_waits: round(elections.probeP99UsNet),
      agents_loop_delay_max_ms_during_elections: round(elections.loopDelayMaxMs),
      emit_p99_us_steady: round(steady.emitP99Us),
      emit_p99_us_steady_net_of_waits: round(steady.emitP99UsNet),
      probe_p99_us_steady: round(steady.probeP99Us),
      probe_p99_us_steady_net_of_waits: round(steady.probeP99UsNet),
      emit_p99_us: round(report.emitUs.p99),
      unplanned_worker_restarts: workers.unplannedRestarts,
      partition,
      spooled: report.producer.spooled,
      duration_s: timeline.elapsedS(),
      nice,
      load_average_1m_at_end: round(loadavg()[0] ?? 0),
    }),
  );
} catch (error) {
  console.error(`cluster faults: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  await guard.cleanup();
  guard.dispose();
}
process.exitCode = exitCode;
setTimeout(() => process.exit(exitCode), 5000).unref();
