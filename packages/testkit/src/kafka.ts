import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { Kafka, logLevel, type Admin, type ITopicConfig } from "kafkajs";
import { dockerAvailable } from "./internal/docker.js";
import { reportOnce } from "./internal/report.js";
import { repoRoot } from "./internal/repo.js";
import { uniqueName } from "./names.js";

export type KafkaSource = "env" | "testcontainers" | "local";

export interface KafkaService {
  readonly brokers: readonly string[];
  readonly source: KafkaSource;
}

const LOCAL_PORT = process.env["KAFKA_PORT"] ?? "19092";
const KAFKA_IMAGE = "confluentinc/cp-kafka:7.9.0";

let service: Promise<KafkaService> | undefined;

/**
 * Real Kafka brokers for tests, in this order: `KAFKA_BROKERS`, then a
 * testcontainers broker when a Docker engine is reachable, then the repo's
 * local broker (infra/kafka/start.sh installs and starts it when needed).
 * Fails with a clear message when none can be had; never skips.
 */
export function useKafka(): Promise<KafkaService> {
  service ??= resolveKafka();
  return service;
}

async function resolveKafka(): Promise<KafkaService> {
  const fromEnv = process.env["KAFKA_BROKERS"];
  if (fromEnv) {
    reportOnce(`Kafka: KAFKA_BROKERS=${fromEnv} (from the environment)`);
    return { brokers: fromEnv.split(",").map((b) => b.trim()), source: "env" };
  }
  if (await dockerAvailable()) {
    const { KafkaContainer } = await import("@testcontainers/kafka");
    const container = await new KafkaContainer(KAFKA_IMAGE).withKraft().start();
    const brokers = [`${container.getHost()}:${container.getMappedPort(9093)}`];
    reportOnce(`Kafka: testcontainers ${KAFKA_IMAGE} at ${brokers[0]}`);
    return { brokers, source: "testcontainers" };
  }
  const script = join(repoRoot(), "infra", "kafka", "start.sh");
  const run = spawnSync("bash", [script], {
    encoding: "utf8",
    env: { ...process.env, KAFKA_PORT: LOCAL_PORT },
  });
  if (run.status !== 0) {
    throw new Error(
      `testkit: no Kafka broker available. KAFKA_BROKERS is not set, no Docker engine is reachable, ` +
        `and ${script} failed (exit ${run.status}):\n${run.stdout}\n${run.stderr}`,
    );
  }
  const brokers = [`127.0.0.1:${LOCAL_PORT}`];
  reportOnce(`Kafka: local broker ${brokers[0]} (infra/kafka/start.sh; stop it with npm run kafka:stop)`);
  return { brokers, source: "local" };
}

/** A kafkajs client on the test broker, quiet unless something is wrong. */
export async function testKafka(clientId = uniqueName("test")): Promise<Kafka> {
  const { brokers } = await useKafka();
  return new Kafka({ clientId, brokers: [...brokers], logLevel: logLevel.ERROR });
}

export interface TestTopics {
  readonly kafka: Kafka;
  /** Creates a topic with a unique name and waits for its partitions to have leaders. */
  create(prefix: string, options?: Omit<ITopicConfig, "topic">): Promise<string>;
  /** Deletes every topic this instance created. */
  cleanup(): Promise<void>;
}

export async function testTopics(): Promise<TestTopics> {
  const kafka = await testKafka();
  const admin: Admin = kafka.admin();
  await admin.connect();
  const created: string[] = [];
  return {
    kafka,
    async create(prefix, options = {}) {
      const topic = uniqueName(prefix);
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ numPartitions: 1, replicationFactor: 1, ...options, topic }],
      });
      created.push(topic);
      return topic;
    },
    async cleanup() {
      try {
        if (created.length > 0) await admin.deleteTopics({ topics: created.splice(0) });
      } finally {
        await admin.disconnect();
      }
    },
  };
}
