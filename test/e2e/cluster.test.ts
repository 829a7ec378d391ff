import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { TraceContext } from "@tracehouse/context";
import { createExecutionTracker } from "@tracehouse/producer";
import { startKafkaCluster } from "@tracehouse/testkit";
import type { ClusterNode, KafkaCluster } from "@tracehouse/testkit";
import { expect } from "chai";
import { openPipeline, pollUntil } from "../src/harness/index.js";
import type { Pipeline } from "../src/harness/index.js";
import { checkDelivery } from "../src/load/clickhouse-checks.js";

describe("a three-node Kafka cluster (replication factor 3, min.insync.replicas 2)", function () {
  this.timeout(300_000);
  let cluster: KafkaCluster;
  let pipeline: Pipeline | undefined;
  const scratch = mkdtempSync(join(tmpdir(), "tracehouse-cluster-e2e-"));

  before(function () {
    cluster = startKafkaCluster();
  });

  after(async function () {
    await pipeline?.close();
    cluster?.shutdown();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("loses and duplicates nothing while the leader of the busy partition is killed and restarted twice", async function () {
    pipeline = await openPipeline({
      name: "cluster",
      brokers: cluster.brokers,
      partitions: 3,
      replicationFactor: 3,
      topicConfig: [{ name: "min.insync.replicas", value: "2" }],
    });
    const eventsTopic = pipeline.catalogue.topicFor("event");
    const admin = pipeline.kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [eventsTopic] });
      for (const partition of topics[0]!.partitions) expect(partition.replicas).to.have.length(3);
      const [config] = (
        await admin.describeConfigs({ resources: [{ type: 2, name: eventsTopic }], includeSynonyms: false })
      ).resources;
      expect(config!.configEntries.find((e) => e.configName === "min.insync.replicas")?.configValue).to.equal(
        "2",
      );
    } finally {
      await admin.disconnect();
    }

    const warnings: string[] = [];
    const log = (level: string) => (message: string, fields?: Record<string, unknown>) => {
      if (process.env["DEBUG_CLUSTER"])
        console.log(level, message, JSON.stringify(fields ?? {}).slice(0, 300));
      if (level !== "debug") warnings.push(message);
    };
    const producer = pipeline.createProducer({
      logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
    });
    const tracker = createExecutionTracker(producer);
    let emitting = true;
    let traces = 0;
    const load = (async () => {
      while (emitting) {
        const run = tracker.startExecution(TraceContext.create({ userId: `u-${traces % 17}` }), {
          agentName: "planner",
          input: `request ${traces}`,
        });
        run.startToolCall("search").end();
        run.startLlmCall("gpt-4o").end({ usage: { promptTokens: 10, completionTokens: 5 } });
        run.complete(`answer ${traces}`);
        traces++;
        await sleep(5);
      }
    })();

    const killed: ClusterNode[] = [];
    for (let round = 0; round < 2; round++) {
      await sleep(2000);
      const leader = await pollUntil(
        async () => (await cluster.leaderOf(eventsTopic, 0).catch(() => null)) ?? undefined,
        {
          what: "a leader",
          timeoutMs: 30_000,
        },
      );
      cluster.kill(leader);
      killed.push(leader);
      const next = await pollUntil(
        async () => {
          const now = await cluster.leaderOf(eventsTopic, 0).catch(() => null);
          return now !== null && now !== leader ? now : undefined;
        },
        { what: "a new leader", timeoutMs: 30_000, intervalMs: 50 },
      );
      expect(next).to.not.equal(leader);
      await sleep(2000);
      cluster.start(leader);
    }
    emitting = false;
    await load;
    await producer.flush({ timeoutMs: 90_000 });

    const emitted = pipeline.emitted();
    expect(emitted.length).to.be.greaterThan(1000);
    expect(Object.values(producer.stats().dropped).reduce((a, b) => a + b, 0)).to.equal(0);
    try {
      await pipeline.waitUntilQueryable(undefined, { timeoutMs: 120_000 });
    } catch (error) {
      const lag = await pipeline.lag().catch((e: unknown) => String(e));
      throw new Error(
        `${String(error)}\nproducer: ${JSON.stringify(producer.stats())}\nworker: ${JSON.stringify(pipeline.worker.status())}\nlag: ${JSON.stringify(lag)}`,
      );
    }
    await pollUntil(async () => ((await pipeline!.lag()).total === 0 ? true : undefined), {
      what: "the worker to commit everything",
      timeoutMs: 60_000,
    });
    const idsFile = join(scratch, "ids.txt");
    writeFileSync(idsFile, emitted.map((r) => r.eventId).join("\n") + "\n");
    const delivery = await checkDelivery(pipeline.monitor, pipeline.database, idsFile);
    expect(killed).to.have.length(2);
    expect(delivery.lost, "lost").to.equal(0);
    expect(delivery.duplicates, "duplicates").to.equal(0);
    expect(delivery.unexpected, "unexpected").to.equal(0);
    expect(delivery.inClickHouse).to.equal(emitted.length);
  });
});
