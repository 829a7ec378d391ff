import { ClickHouseTraceSchema } from "@tracehouse/clickhouse";
import type { Sink } from "@tracehouse/clickhouse";
import { RECORD_TYPES, RecordType } from "@tracehouse/schemas";
import { startKafkaCluster, uniqueName, waitForLeaders } from "@tracehouse/testkit";
import type { KafkaCluster } from "@tracehouse/testkit";
import { expect } from "chai";
import { Kafka, logLevel } from "kafkajs";
import type { Admin } from "kafkajs";
import { createWorker } from "../src/index.js";
import { countRows, eventIds, processSink, waitFor } from "./helpers/env.js";
import { FaultInjectingSink } from "./helpers/faults.js";
import { produceRecords, recordsOfEveryType } from "./helpers/records.js";
import type { TestRecord, TopicsByType } from "./helpers/records.js";

/** Every broker answers for the topics with a leader for each partition (a fresh topic reaches each broker in turn). */
async function knownToEveryBroker(brokers: readonly string[], topics: string[]): Promise<boolean> {
  for (const broker of brokers) {
    const probe = new Kafka({
      clientId: uniqueName("probe"),
      brokers: [broker],
      logLevel: logLevel.NOTHING,
    }).admin();
    try {
      await probe.connect();
      const metadata = await probe.fetchTopicMetadata({ topics });
      if (!metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)))
        return false;
    } finally {
      await probe.disconnect();
    }
  }
  return true;
}

/** Java's String.hashCode, by which Kafka places a group in a `__consumer_offsets` partition. */
function javaHashCode(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return hash;
}

/**
 * Fills the `__consumer_offsets` partition of `groupId` with the commits of another group (each with
 * the largest metadata a broker takes), so that a node taking the group over spends a while loading
 * it: long enough for a member's join to meet "the coordinator is loading".
 */
async function fillOffsetsPartition(
  cluster: KafkaCluster,
  kafka: Kafka,
  admin: Admin,
  groupId: string,
  megabytes: number,
): Promise<void> {
  const [offsets] = (await admin.fetchTopicMetadata({ topics: ["__consumer_offsets"] })).topics;
  const count = offsets!.partitions.length;
  const partitionOf = (group: string): number => {
    const hash = javaHashCode(group);
    return (hash === -2147483648 ? 0 : Math.abs(hash)) % count;
  };
  let filler = `${groupId}_filler`;
  for (let i = 0; partitionOf(filler) !== partitionOf(groupId); i++) filler = `${groupId}_filler${i}`;
  const topic = uniqueName("wkr_filler");
  const partitions = 100;
  await admin.createTopics({
    waitForLeaders: false,
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
  });
  await waitForLeaders(admin, topic);
  await waitFor(() => knownToEveryBroker(cluster.brokers, [topic]), { what: `${topic} on every broker` });
  const consumer = kafka.consumer({ groupId: filler });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({ autoCommit: false, eachBatch: async () => undefined });
    consumer.pause([{ topic }]);
    await joined;
    const metadata = "m".repeat(4000);
    const commits = Math.ceil((megabytes * 1_000_000) / (partitions * metadata.length));
    for (let commit = 0; commit < commits; commit++) {
      await consumer.commitOffsets(
        Array.from({ length: partitions }, (_, partition) => ({
          topic,
          partition,
          offset: String(commit),
          metadata,
        })),
      );
    }
  } finally {
    await consumer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  }
}

/** Records of the topic not yet committed by the group. */
async function groupLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const ends = await admin.fetchTopicOffsets(topic);
  return ends.reduce((lag, { partition, high }) => {
    const offset = Number(committed?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
    return lag + Number(high) - Math.max(0, offset);
  }, 0);
}

/** Every partition of the topics has all three replicas in sync (a restarted node caught up). */
async function fullyReplicated(admin: Admin, topics: string[]): Promise<boolean> {
  const metadata = await admin.fetchTopicMetadata({ topics });
  return metadata.topics.every((t) => t.partitions.every((p) => p.isr.length === 3));
}

/** One topic for every record type and a dead-letter topic, three replicas each, known to every node. */
async function createTopics(
  cluster: KafkaCluster,
  admin: Admin,
  prefix: string,
): Promise<{ topic: string; dlq: string; topics: TopicsByType }> {
  const topic = uniqueName(`${prefix}_event`);
  const dlq = uniqueName(`${prefix}_dlq`);
  await admin.createTopics({
    waitForLeaders: false,
    topics: [
      { topic, numPartitions: 3, replicationFactor: 3 },
      { topic: dlq, numPartitions: 1, replicationFactor: 3 },
    ],
  });
  for (const name of [topic, dlq]) await waitForLeaders(admin, name);
  await waitFor(() => knownToEveryBroker(cluster.brokers, [topic, dlq]), {
    what: "the topics on every broker",
  });
  const topics = Object.fromEntries(RECORD_TYPES.map((type) => [type, topic])) as unknown as TopicsByType;
  return { topic, dlq, topics };
}

/** A worker whose commits keep coming while nodes go (slow inserts of small batches), and what it logs. */
function committingWorker(options: {
  readonly cluster: KafkaCluster;
  readonly groupId: string;
  readonly topic: string;
  readonly dlq: string;
  readonly sink: Sink;
  readonly heartbeatIntervalMs: number;
}) {
  const complaints: string[] = [];
  const complain = (message: string, fields?: Record<string, unknown>): void =>
    void complaints.push(
      `${new Date().toISOString()} ${message} ${JSON.stringify(fields ?? {}).slice(0, 200)}`,
    );
  const worker = createWorker({
    brokers: options.cluster.brokers,
    groupId: options.groupId,
    topics: [options.topic],
    deadLetterTopic: options.dlq,
    schemasTopic: null,
    sink: new FaultInjectingSink(options.sink, { delayMs: 100 }),
    maxBatchRows: 10,
    flushIntervalMs: 100,
    maxConcurrentInserts: 1,
    // short backoff and a session of a few seconds as the cluster fault run's worker, fewer
    // retries: spent within a second, before a moving coordinator settles
    maxRetries: 1,
    retryBaseDelayMs: 100,
    retryMaxDelayMs: 500,
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    rebalanceTimeoutMs: 10_000,
    // few, short retries of the client's own: the worker's commit retries ride out the move
    kafkaConfig: { retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 300 } },
    logger: { debug: () => undefined, info: complain, warn: complain, error: complain },
  });
  let died: unknown = null;
  worker.done.catch((error: unknown) => (died = error));
  return {
    worker,
    complaints,
    complain,
    /** The error that stopped the worker, or null. */
    died: (): unknown => died,
    commits: async (): Promise<number> =>
      (await worker.registry.getSingleMetric("tracehouse_worker_commits_total")!.get()).values[0]?.value ?? 0,
  };
}

describe("worker on a three-node cluster: its group coordinator moves", function () {
  this.timeout(110_000);
  let cluster: KafkaCluster;
  let kafka: Kafka;
  let admin: Admin;
  let sink: Sink;
  const database = uniqueName("wkc");

  before(async function () {
    this.timeout(300_000);
    cluster = startKafkaCluster();
    kafka = new Kafka({
      clientId: uniqueName("test"),
      brokers: [...cluster.brokers],
      logLevel: logLevel.NOTHING,
    });
    admin = kafka.admin();
    await admin.connect();
    sink = processSink(database);
    await new ClickHouseTraceSchema(sink, { ttlDays: null }).createTables();
  });

  after(async function () {
    this.timeout(60_000);
    await admin?.disconnect().catch(() => undefined);
    await sink?.command(`DROP DATABASE IF EXISTS ${database} SYNC`).catch(() => undefined);
    await sink?.close();
    cluster?.shutdown();
  });

  it("keeps running while its coordinator is killed (SIGKILL): commits resume, every record written once", async () => {
    const { topic, dlq, topics } = await createTopics(cluster, admin, "wkc");
    const groupId = uniqueName("g");
    const { worker, complaints, died, commits } = committingWorker({
      cluster,
      groupId,
      topic,
      dlq,
      sink,
      heartbeatIntervalMs: 500,
    });

    const events = (from: number): TestRecord[] =>
      recordsOfEveryType(600, from).filter((item) => item.type === RecordType.Event);
    /** Every record so far in ClickHouse, and a commit made after `since` commits (through whichever node coordinates now). */
    const caughtUp = (since: number, what: string): Promise<unknown> =>
      Promise.race([
        waitFor(
          async () => (await countRows(sink, "agent_events")) === items.length && (await commits()) > since,
          { timeoutMs: 40_000, intervalMs: 250, what },
        ),
        worker.done, // rejects at once when the worker stops
      ]);
    const items = events(0);
    await worker.start();
    try {
      // the worker needs several seconds to write these: commits keep coming while the coordinator moves
      const started = await commits();
      await produceRecords(kafka, topics, items);
      await waitFor(async () => (await commits()) > started, { what: "a commit of the first records" });
      const coordinator = await waitFor(() => cluster.coordinatorOf(groupId), { what: "the coordinator" });
      // SIGKILL: the group moves once the controller fences the node (seconds later)
      const atKill = await commits();
      cluster.kill(coordinator);
      const successor = await waitFor(
        async () => {
          const node = await cluster.coordinatorOf(groupId).catch(() => null);
          return node !== null && node !== coordinator ? node : null;
        },
        { what: `a coordinator other than node ${coordinator}` },
      );
      await caughtUp(atKill, `every record written and committed through node ${successor}`);
      expect(died(), "the worker stopped").to.equal(null);
      await cluster.startAsync(coordinator);
      await waitFor(() => fullyReplicated(admin, [topic, "__consumer_offsets"]), {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: `node ${coordinator} back in sync`,
      });
      // and it goes on: more records, produced with every node up again
      const more = events(600);
      const before = await commits();
      await produceRecords(kafka, topics, more);
      items.push(...more);
      await caughtUp(before, "the records produced after the fault written and committed");
      const expected = items.map((item) => item.record.event_id).sort();
      expect((await eventIds(sink, "agent_events")).sort()).to.deep.equal(expected);
      expect(died(), "the worker stopped").to.equal(null);
      expect(worker.status().state).to.equal("running");
    } catch (error) {
      console.log(`worker log (last 60 lines):\n${complaints.slice(-60).join("\n")}`);
      throw error;
    } finally {
      await worker.stop();
      await admin.deleteTopics({ topics: [topic, dlq] }).catch(() => undefined);
    }
  });

  it("keeps running through restarts of its coordinator (a rolling restart): commits resume, every record written once", async function () {
    this.timeout(300_000);
    const { topic, dlq, topics } = await createTopics(cluster, admin, "wkr");
    const groupId = uniqueName("g");
    // its own database: the tables of the test before hold that test's rows
    const rolled = processSink(uniqueName("wkr"));
    await new ClickHouseTraceSchema(rolled, { ttlDays: null }).createTables();
    const { worker, complaints, complain, died, commits } = committingWorker({
      cluster,
      groupId,
      topic,
      dlq,
      sink: rolled,
      heartbeatIntervalMs: 100,
    });
    const items: TestRecord[] = [];
    const filling = performance.now();
    await fillOffsetsPartition(cluster, kafka, admin, groupId, 40);
    complain(`test: offsets partition filled in ${(performance.now() - filling).toFixed(0)} ms`);
    await worker.start();
    try {
      // A rolling restart in the coordinator's order: each round stops (SIGTERM) the node coordinating
      // the group now and starts it again. Heartbeats every 100 ms make kafkajs rejoin at once, while
      // the new coordinator is still loading the group (its filled offsets partition): that join
      // fails, the heartbeats go on through the new coordinator, and kafkajs kept committing through
      // the old one until the worker's commit retries ran out.
      for (let round = 1; round <= 3; round++) {
        // records produced with every node up; the worker is still writing and committing them
        const more = recordsOfEveryType(600, items.length).filter((item) => item.type === RecordType.Event);
        const before = await commits();
        await produceRecords(kafka, topics, more);
        items.push(...more);
        await Promise.race([
          waitFor(async () => (await commits()) > before, { what: "a commit of the records just produced" }),
          worker.done,
        ]);
        const node = await waitFor(() => cluster.coordinatorOf(groupId), { what: "the coordinator" });
        complain(`test: round ${round}, stopping node ${node}, the group's coordinator`);
        await cluster.stopAsync(node);
        await cluster.startAsync(node);
        await waitFor(() => fullyReplicated(admin, [topic, "__consumer_offsets"]), {
          timeoutMs: 60_000,
          intervalMs: 250,
          what: `node ${node} back in sync`,
        });
        complain(`test: node ${node} back; the coordinator is node ${await cluster.coordinatorOf(groupId)}`);
        expect(died(), `the worker stopped in round ${round}`).to.equal(null);
      }
      // every record written, and committed through whichever node coordinates now: no lag left
      await Promise.race([
        waitFor(
          async () =>
            (await countRows(rolled, "agent_events")) === items.length &&
            (await groupLag(admin, groupId, topic)) === 0,
          { timeoutMs: 60_000, intervalMs: 250, what: "every record written and committed (group lag 0)" },
        ),
        worker.done,
      ]);
      const expected = items.map((item) => item.record.event_id).sort();
      expect((await eventIds(rolled, "agent_events")).sort()).to.deep.equal(expected);
      expect(await countRows(rolled, "agent_events", false), "rows inserted twice").to.equal(items.length);
      expect(died(), "the worker stopped").to.equal(null);
      expect(worker.status().state).to.equal("running");
      expect(worker.status().error).to.equal(null);
    } catch (error) {
      console.log(`worker log (last 80 lines):\n${complaints.slice(-80).join("\n")}`);
      throw error;
    } finally {
      await worker.stop();
      await admin.deleteTopics({ topics: [topic, dlq] }).catch(() => undefined);
      await rolled.command(`DROP DATABASE IF EXISTS ${rolled.database} SYNC`).catch(() => undefined);
      await rolled.close();
    }
  });
});
