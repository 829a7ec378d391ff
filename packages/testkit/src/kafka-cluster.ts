import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import type { Admin } from "kafkajs";
import { repoRoot } from "./internal/repo.js";

/** Node ids of the local cluster; each node's broker id is its node id. */
export const CLUSTER_NODES = [1, 2, 3] as const;
export type ClusterNode = (typeof CLUSTER_NODES)[number];

export interface KafkaCluster {
  /** Bootstrap list of all three brokers. */
  readonly brokers: readonly string[];
  /** Kills a node at once (SIGKILL), as a crash would. */
  kill(node: ClusterNode): void;
  /** Stops a node gracefully (SIGTERM: it hands its leaderships over first). */
  stop(node: ClusterNode): void;
  /** Starts a node again and waits until it answers. */
  start(node: ClusterNode): void;
  /** Nodes whose process is running. */
  running(): ClusterNode[];
  /** The node leading a partition, or null while it has none. */
  leaderOf(topic: string, partition: number): Promise<ClusterNode | null>;
  /** In-sync replicas of a partition. */
  inSyncReplicas(topic: string, partition: number): Promise<number[]>;
  /** Stops every node and closes the metadata client. */
  shutdown(): void;
}

/** How long one cluster.sh command may take (starting three JVMs on a busy machine included). */
const CLUSTER_SCRIPT_TIMEOUT_MS = 300_000;

function clusterPort(): number {
  return Number(process.env["KAFKA_CLUSTER_PORT"] ?? 29092);
}

function runCluster(port: number, ...args: string[]): string {
  const script = join(repoRoot(), "infra", "kafka", "cluster.sh");
  const run = spawnSync("bash", [script, ...args], {
    encoding: "utf8",
    env: { ...process.env, KAFKA_CLUSTER_PORT: String(port) },
    timeout: CLUSTER_SCRIPT_TIMEOUT_MS,
    killSignal: "SIGKILL",
  });
  if (run.error !== undefined || run.status !== 0) {
    const why =
      run.error === undefined
        ? `exited ${run.status}`
        : `failed (${run.error.message}; at most ${CLUSTER_SCRIPT_TIMEOUT_MS / 1000} s)`;
    throw new Error(`cluster.sh ${args.join(" ")} ${why}:\n${run.stdout}\n${run.stderr}`);
  }
  return run.stdout;
}

/**
 * Stops every node of the local cluster on `port` without a handle: for cleanup paths (a signal,
 * a timeout) that may run before or while {@link startKafkaCluster} returned.
 */
export function stopKafkaCluster(port = clusterPort()): void {
  runCluster(port, "stop");
}

/**
 * The repo's local three-node KRaft cluster (infra/kafka/cluster.sh) on `KAFKA_CLUSTER_PORT`
 * (default 29092): started when not running, every node a broker and a controller, topics
 * replicated three times with min.insync.replicas=2 by default.
 */
export function startKafkaCluster(port = clusterPort()): KafkaCluster {
  const started = runCluster(port, "start");
  const line = started.split("\n").find((l) => l.startsWith("KAFKA_BROKERS="));
  if (line === undefined) throw new Error(`cluster.sh start printed no KAFKA_BROKERS line:\n${started}`);
  const brokers = line.slice("KAFKA_BROKERS=".length).split(",");
  const kafka = new Kafka({
    clientId: "testkit-cluster",
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 500 },
  });
  // One metadata client for the cluster's life (callers poll leaders every few ms during a
  // failover: a client per call would add a connection and its handshakes to every poll);
  // dropped after a failure so that the next call connects afresh.
  let admin: Promise<Admin> | null = null;
  const connected = (): Promise<Admin> =>
    (admin ??= (async () => {
      const client = kafka.admin();
      await client.connect();
      return client;
    })());
  const drop = (failed: Promise<Admin>): void => {
    if (admin !== failed) return;
    admin = null;
    void failed.then((client) => client.disconnect()).catch(() => undefined);
  };
  async function partitionMetadata(topic: string, partition: number) {
    const client = connected();
    try {
      const { topics } = await (await client).fetchTopicMetadata({ topics: [topic] });
      return topics[0]?.partitions.find((p) => p.partitionId === partition);
    } catch (error) {
      drop(client);
      throw error;
    }
  }
  return {
    brokers,
    kill: (node) => void runCluster(port, "kill-node", String(node)),
    stop: (node) => void runCluster(port, "stop-node", String(node)),
    start: (node) => void runCluster(port, "start-node", String(node)),
    running() {
      return runCluster(port, "status")
        .split("\n")
        .filter((l) => l.includes(" pid "))
        .map((l) => Number(l.split(" ")[1]) as ClusterNode);
    },
    async leaderOf(topic, partition) {
      const leader = (await partitionMetadata(topic, partition))?.leader ?? -1;
      return (CLUSTER_NODES as readonly number[]).includes(leader) ? (leader as ClusterNode) : null;
    },
    async inSyncReplicas(topic, partition) {
      return [...((await partitionMetadata(topic, partition))?.isr ?? [])];
    },
    shutdown() {
      if (admin !== null) drop(admin);
      runCluster(port, "stop");
    },
  };
}
