import { execFile, spawnSync } from "node:child_process";
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
  /** As `stop`, without blocking the event loop: for clients running in this process meanwhile. */
  stopAsync(node: ClusterNode): Promise<void>;
  /** Starts a node again and waits until it answers. */
  start(node: ClusterNode): void;
  /** As `start`, without blocking the event loop: for clients running in this process meanwhile. */
  startAsync(node: ClusterNode): Promise<void>;
  /** Nodes whose process is running. */
  running(): ClusterNode[];
  /** The node leading a partition, or null while it has none. */
  leaderOf(topic: string, partition: number): Promise<ClusterNode | null>;
  /** In-sync replicas of a partition. */
  inSyncReplicas(topic: string, partition: number): Promise<number[]>;
  /** The node coordinating a consumer group (leader of its `__consumer_offsets` partition), or null. */
  coordinatorOf(groupId: string): Promise<ClusterNode | null>;
  /** Stops every node and closes the metadata client. */
  shutdown(): void;
}

/** How long one cluster.sh command may take (starting three JVMs on a busy machine included). */
const CLUSTER_SCRIPT_TIMEOUT_MS = 300_000;

/** Java's String.hashCode, by which Kafka places a group in a `__consumer_offsets` partition. */
function javaHashCode(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return hash;
}

function clusterPort(): number {
  return Number(process.env["KAFKA_CLUSTER_PORT"] ?? 29092);
}

const clusterScript = (): string => join(repoRoot(), "infra", "kafka", "cluster.sh");

function runCluster(port: number, ...args: string[]): string {
  const run = spawnSync("bash", [clusterScript(), ...args], {
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

function runClusterAsync(port: number, ...args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      "bash",
      [clusterScript(), ...args],
      {
        env: { ...process.env, KAFKA_CLUSTER_PORT: String(port) },
        timeout: CLUSTER_SCRIPT_TIMEOUT_MS,
        killSignal: "SIGKILL",
      },
      (error, stdout, stderr) =>
        error === null
          ? resolve()
          : reject(new Error(`cluster.sh ${args.join(" ")} failed:\n${stdout}\n${stderr}`, { cause: error })),
    );
  });
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
  async function topicPartitions(topic: string) {
    const client = connected();
    try {
      const { topics } = await (await client).fetchTopicMetadata({ topics: [topic] });
      return topics[0]?.partitions ?? [];
    } catch (error) {
      drop(client);
      throw error;
    }
  }
  async function partitionMetadata(topic: string, partition: number) {
    return (await topicPartitions(topic)).find((p) => p.partitionId === partition);
  }
  const asNode = (id: number | undefined): ClusterNode | null =>
    (CLUSTER_NODES as readonly number[]).includes(id ?? -1) ? (id as ClusterNode) : null;
  return {
    brokers,
    kill: (node) => void runCluster(port, "kill-node", String(node)),
    stop: (node) => void runCluster(port, "stop-node", String(node)),
    stopAsync: (node) => runClusterAsync(port, "stop-node", String(node)),
    start: (node) => void runCluster(port, "start-node", String(node)),
    startAsync: (node) => runClusterAsync(port, "start-node", String(node)),
    running() {
      return runCluster(port, "status")
        .split("\n")
        .filter((l) => l.includes(" pid "))
        .map((l) => Number(l.split(" ")[1]) as ClusterNode);
    },
    async leaderOf(topic, partition) {
      return asNode((await partitionMetadata(topic, partition))?.leader);
    },
    async coordinatorOf(groupId) {
      const partitions = await topicPartitions("__consumer_offsets");
      if (partitions.length === 0) return null;
      const hash = javaHashCode(groupId);
      // Kafka's Utils.abs: Integer.MIN_VALUE maps to 0
      const index = (hash === -2147483648 ? 0 : Math.abs(hash)) % partitions.length;
      return asNode(partitions.find((p) => p.partitionId === index)?.leader);
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
