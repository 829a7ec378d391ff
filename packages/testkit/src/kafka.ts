import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  Kafka,
  logLevel,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type ITopicConfig,
  type KafkaMessage,
} from "kafkajs";
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
  try {
    runKafkaScript("start.sh");
  } catch (error) {
    throw new Error(
      `testkit: no Kafka broker available. KAFKA_BROKERS is not set, no Docker engine is reachable, ` +
        `and the local broker did not start: ${(error as Error).message}`,
    );
  }
  const brokers = [`127.0.0.1:${LOCAL_PORT}`];
  reportOnce(`Kafka: local broker ${brokers[0]} (infra/kafka/start.sh; stop it with npm run kafka:stop)`);
  return { brokers, source: "local" };
}

function runKafkaScript(name: "start.sh" | "stop.sh"): void {
  const script = join(repoRoot(), "infra", "kafka", name);
  const run = spawnSync("bash", [script], {
    encoding: "utf8",
    env: { ...process.env, KAFKA_PORT: LOCAL_PORT },
  });
  if (run.status !== 0) throw new Error(`${script} exited ${run.status}:\n${run.stdout}\n${run.stderr}`);
}

export interface LocalKafkaControl {
  /** Stops the broker gracefully (SIGTERM, then SIGKILL after 20 s). */
  stop(): void;
  /** Kills the broker at once (SIGKILL), as a crash would. */
  kill(): void;
  /** Starts the broker again and waits until a client can use it. */
  start(): void;
}

/**
 * Stop, kill and restart the local broker, for outage and fault tests. Only the
 * local broker can be controlled; a broker from the environment or a container
 * makes this throw, so such a test fails loudly instead of passing untested.
 */
export async function localKafkaControl(): Promise<LocalKafkaControl> {
  const { source } = await useKafka();
  if (source !== "local") {
    throw new Error(
      `testkit: broker outage tests need the local broker (infra/kafka); this run uses ${source}`,
    );
  }
  const pidFile = join(repoRoot(), "infra", "kafka", ".local", `broker-${LOCAL_PORT}`, "kafka.pid");
  return {
    stop: () => runKafkaScript("stop.sh"),
    kill() {
      const pid = Number(readFileSync(pidFile, "utf8").trim());
      process.kill(pid, "SIGKILL");
      for (let i = 0; i < 200 && alive(pid); i++) spawnSync("sleep", ["0.05"]);
    },
    start: () => runKafkaScript("start.sh"),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
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

/**
 * Polls metadata until every partition of a new topic has a leader. Right after a broker
 * restart, metadata can say "unknown topic" for a while; kafkajs's own wait gives up on that.
 */
export async function waitForLeaders(admin: Admin, topic: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = topics[0]?.partitions ?? [];
      if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`testkit: topic ${topic} has no leader for every partition after ${timeoutMs} ms`, {
    cause: last,
  });
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
        waitForLeaders: false,
        topics: [{ numPartitions: 1, replicationFactor: 1, ...options, topic }],
      });
      created.push(topic);
      await waitForLeaders(admin, topic);
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

/** A message `readTopics` read, with the topic and partition it came from. */
export interface ReadMessage {
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage;
}

/**
 * Reads `topics` from the beginning, in a fresh consumer group, until `count` messages arrived or
 * `timeoutMs` passed, then half a second more, so that messages beyond `count` are seen too.
 */
export async function readTopics(
  kafka: Kafka,
  topics: readonly string[],
  count: number,
  timeoutMs = 30_000,
): Promise<ReadMessage[]> {
  const read: ReadMessage[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName("reader"), maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    let done: () => void = () => undefined;
    const enough = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        read.push({ topic, partition, message });
        if (read.length >= count) done();
      },
    });
    const timer = setTimeout(done, timeoutMs);
    await enough;
    clearTimeout(timer);
    await new Promise((resolve) => setTimeout(resolve, 500));
  } finally {
    await consumer.disconnect();
  }
  return read;
}

/** Every message of `topic` from its beginning that a fresh consumer group reads within `settleMs`. */
export async function readTopicFor(kafka: Kafka, topic: string, settleMs = 1500): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: uniqueName("reader"), maxWaitTimeInMs: 100 });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
    await new Promise((resolve) => setTimeout(resolve, settleMs));
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/**
 * Connects `consumer`, runs `eachBatch` over `topics` from the beginning (no automatic commits) until
 * it returns true, then disconnects; rejects with its error, or with `timeout.error()` after `timeout.ms`.
 */
export async function consumeUntil(
  consumer: Consumer,
  topics: readonly string[],
  eachBatch: (payload: EachBatchPayload) => Promise<boolean>,
  timeout?: { readonly ms: number; readonly error: () => Error },
): Promise<void> {
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    let finish!: () => void;
    let fail!: (error: unknown) => void;
    const finished = new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    await consumer.run({
      autoCommit: false,
      eachBatch: async (payload) => {
        try {
          if (await eachBatch(payload)) finish();
        } catch (error) {
          fail(error);
        }
      },
    });
    let timer: NodeJS.Timeout | undefined;
    if (timeout !== undefined) timer = setTimeout(() => fail(timeout.error()), timeout.ms);
    await finished.finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect();
  }
}
