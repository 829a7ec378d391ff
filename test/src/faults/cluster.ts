// Cluster fault run: three brokers (replication factor 3, min.insync.replicas 2) under steady load
// from simulated agents through producer, worker and the embedded engine, while the leader of busy
// partitions is killed again and again, one broker is stopped for good, and all three are restarted
// one after another. Afterwards every accepted event id must be in ClickHouse exactly once.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { EmbeddedSink } from "@tracehouse/clickhouse";
import { CLUSTER_NODES, startKafkaCluster, uniqueName } from "@tracehouse/testkit";
import type { ClusterNode, KafkaCluster } from "@tracehouse/testkit";
import { Kafka, logLevel } from "kafkajs";
import {
  consumerLag,
  createCatalogueTopics,
  deleteCatalogueTopics,
  pollUntil,
  quantile,
} from "../harness/index.js";
import { checkDelivery } from "../load/clickhouse-checks.js";
import type { AgentProgress } from "../load/protocol.js";
import { spawnAgents } from "../load/spawn-agents.js";
import { steadyAgents } from "./steady-agents.js";
import type { AgentsHandle } from "../load/spawn-agents.js";
import { FailoverMeter } from "./failover.js";
import { WorkerPod } from "./WorkerPod.js";

const HELP = `Usage: npm run test:faults -- --cluster [options]

Steady load (simulated agents, own process) → a local three-node Kafka cluster (infra/kafka/cluster.sh;
replication factor 3, min.insync.replicas 2) → worker process → ClickHouse (embedded), while: the
leader of a busy partition is killed (SIGKILL) and restarted, --leader-kills times; one broker is
stopped and the load goes on without it for --down-s seconds; then all three are restarted one
after another (SIGTERM, start, wait until every replica is back in sync). Then every accepted event
id must be in ClickHouse exactly once.

  --rate <n>           records/s the agents emit (default 1500)
  --leader-kills <n>   leader kills (default 4)
  --down-s <n>         seconds one broker stays down for good (default 15)
  --timeout-s <n>      give up after this long (default 420)
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
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
function integer(name: "rate" | "leader-kills" | "down-s" | "timeout-s", min: number): number {
  const value = Number(args[name]);
  if (!Number.isSafeInteger(value) || value < min) {
    console.error(`--${name} must be an integer ≥ ${min}, got ${String(args[name])}\n\n${HELP}`);
    process.exit(2);
  }
  return value;
}
const rate = integer("rate", 1);
const leaderKills = integer("leader-kills", 1);
const downMs = integer("down-s", 1) * 1000;
const startedAt = performance.now();
const deadline = startedAt + integer("timeout-s", 30) * 1000;
const left = (): number => Math.max(1000, deadline - performance.now());
const record = (event: string): void =>
  console.log(`${((performance.now() - startedAt) / 1000).toFixed(1).padStart(6)} s  ${event}`);

console.log("cluster faults: starting the three-node cluster (infra/kafka/cluster.sh)");
const cluster: KafkaCluster = startKafkaCluster();
const kafka = new Kafka({
  clientId: uniqueName("cluster-faults"),
  brokers: [...cluster.brokers],
  logLevel: logLevel.NOTHING,
});
const runId = uniqueName("cfaults");
const catalogue = await createCatalogueTopics(kafka, {
  prefix: `${runId}.`,
  partitions: 3,
  replicationFactor: 3,
  configEntries: [{ name: "min.insync.replicas", value: "2" }],
});
const topics = catalogue.all.filter((spec) => spec.recordType !== null).map((spec) => spec.name);
const busyTopic = catalogue.topicFor("event");
const scratch = mkdtempSync(path.join(tmpdir(), "tracehouse-cluster-faults-"));
const idsFile = path.join(scratch, "accepted-ids.txt");
const workerOptions = {
  brokers: cluster.brokers,
  topicPrefix: catalogue.prefix,
  groupId: `${runId}_worker`,
  dataDir: path.join(scratch, "chdb"),
  database: runId,
  flushIntervalMs: 500,
};
const meter = new FailoverMeter();
let agents: AgentsHandle | undefined;
let pod: WorkerPod | null = null;
let exitCode = 1;

async function catchUp(): Promise<void> {
  let last = -1;
  await pollUntil(
    async () => {
      last = await consumerLag(kafka, workerOptions.groupId, topics).then(
        (l) => l.total,
        () => -1,
      );
      return last >= 0 && last <= rate ? true : undefined;
    },
    { what: "the worker to catch up", timeoutMs: left(), intervalMs: 250, describe: () => `lag ${last}` },
  );
}

/** Every replica of every partition of the busy topic is back in sync. */
async function fullyReplicated(): Promise<void> {
  await pollUntil(
    async () => {
      for (let partition = 0; partition < 3; partition++) {
        if ((await cluster.inSyncReplicas(busyTopic, partition).catch(() => [])).length < 3) return undefined;
      }
      return true;
    },
    { what: "every replica back in sync", timeoutMs: left(), intervalMs: 250 },
  );
}

async function leaderOfBusyPartition(): Promise<ClusterNode> {
  return pollUntil(async () => (await cluster.leaderOf(busyTopic, 0).catch(() => null)) ?? undefined, {
    what: `a leader for ${busyTopic}[0]`,
    timeoutMs: left(),
    intervalMs: 100,
  });
}

/** Kills or stops `node` and measures how long deliveries stall and what emit costs meanwhile. */
async function failover(node: ClusterNode, how: "kill" | "stop", label: string): Promise<void> {
  const mark = meter.begin(label);
  if (how === "kill") cluster.kill(node);
  else cluster.stop(node);
  const elected = await pollUntil(
    async () => {
      const leader = await cluster.leaderOf(busyTopic, 0).catch(() => null);
      return leader !== null && leader !== node ? leader : undefined;
    },
    { what: "a new leader", timeoutMs: left(), intervalMs: 50 },
  );
  const stall = await meter.end(mark, left());
  record(
    `${label}: node ${node} ${how === "kill" ? "killed (SIGKILL)" : "stopped (SIGTERM)"}; node ${elected} leads; deliveries stalled ${stall.stallMs.toFixed(0)} ms, emit p99 ${stall.emitP99Us?.toFixed(1) ?? "-"} µs over its ${stall.emits} emits`,
  );
}

try {
  agents = spawnAgents(
    steadyAgents({
      brokers: cluster.brokers,
      topicPrefix: catalogue.prefix,
      rate,
      idsFile,
      runId,
      scratch,
      progressEveryMs: 50,
    }),
    { onProgress: (progress: AgentProgress) => meter.observe(progress) },
  );
  pod = new WorkerPod(workerOptions);
  await Promise.all([agents.ready, pod.ready]);
  agents.start();
  record(`load started at ${rate} records/s; brokers ${cluster.brokers.join(",")}`);
  await sleep(3000);

  for (let kill = 1; kill <= leaderKills; kill++) {
    const leader = await leaderOfBusyPartition();
    await failover(leader, "kill", `leader kill ${kill}/${leaderKills}`);
    await sleep(2000);
    cluster.start(leader);
    await fullyReplicated();
    await catchUp();
    record(`  node ${leader} back, every replica in sync, worker caught up`);
  }

  const gone = await leaderOfBusyPartition();
  await failover(gone, "kill", "one broker down for good");
  await sleep(downMs);
  record(`  ${downMs / 1000} s on two brokers (min.insync.replicas 2 still met)`);
  cluster.start(gone);
  await fullyReplicated();

  for (const node of CLUSTER_NODES) {
    await failover(node, "stop", `rolling restart, node ${node}`);
    cluster.start(node);
    await fullyReplicated();
  }
  record("rolling restart done");

  agents.stop();
  const report = await agents.done;
  await pollUntil(
    async () => ((await consumerLag(kafka, workerOptions.groupId, topics)).total === 0 ? true : undefined),
    { what: "the worker to commit every record", timeoutMs: left(), intervalMs: 250 },
  );
  const exit = await pod.stop();
  pod = null;
  record(`load stopped, ${report.accepted} records accepted; worker stopped (code ${exit.code})`);

  const sink = new EmbeddedSink({ dataDir: workerOptions.dataDir, database: workerOptions.database });
  const delivery = await checkDelivery(sink, workerOptions.database, idsFile).finally(() => sink.close());
  const stalls = meter.results.map((r) => r.stallMs);
  const emitDuring = meter.results.flatMap((r) => (r.emitP99Us === null ? [] : [r.emitP99Us]));
  const electionEmits = meter.results.reduce((n, r) => n + r.emits, 0);
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
      failovers: meter.results.length,
      failover_stall_p50_ms: round(quantile(stalls, 0.5)),
      failover_stall_p99_ms: round(quantile(stalls, 0.99)),
      failover_stall_ms: stalls.map((s) => Math.round(s)),
      // the worst failover's p99, over every emit from the fault to the end of its stall
      emit_p99_us_during_elections: round(emitDuring.length === 0 ? null : Math.max(...emitDuring)),
      emits_during_elections: electionEmits,
      emit_p99_us: round(report.emitUs.p99),
      spooled: report.producer.spooled,
      duration_s: Number(((performance.now() - startedAt) / 1000).toFixed(1)),
    }),
  );
} catch (error) {
  console.error(`cluster faults: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  if (agents !== undefined && agents.child.exitCode === null) agents.child.kill("SIGKILL");
  if (pod !== null) await pod.kill();
  await deleteCatalogueTopics(kafka, catalogue).catch(() => undefined);
  cluster.shutdown();
  rmSync(scratch, { recursive: true, force: true });
}

function round(value: number | null): number | null {
  return value === null ? null : Number(value.toFixed(1));
}
process.exitCode = exitCode;
setTimeout(() => process.exit(exitCode), 5000).unref();
