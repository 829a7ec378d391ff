import { uniqueName, useKafka } from "@tracehouse/testkit";
import { expect } from "chai";
import { Registry } from "prom-client";
import { RECORD_TABLES, TABLE_OF_RECORD_TYPE } from "@tracehouse/clickhouse";
import { createWorker } from "../src/index.js";
import type { Worker, WorkerOptions } from "../src/index.js";
import { eventIds, setupEnv, waitFor } from "./helpers/env.js";
import type { WorkerTestEnv } from "./helpers/env.js";
import { produceRecords, recordsOfEveryType } from "./helpers/records.js";
import type { TestRecord } from "./helpers/records.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function assigned(worker: Worker): string[] {
  return worker
    .status()
    .assignment.flatMap(({ topic, partitions }) => partitions.map((p) => `${topic}[${p}]`));
}

async function rowsWritten(registry: Registry): Promise<number> {
  const metric = await registry.getSingleMetric("tracehouse_worker_rows_total")!.get();
  return metric.values.reduce((sum, value) => sum + value.value, 0);
}

describe("worker group: several workers, rebalances mid-stream", function () {
  this.timeout(300_000);
  let env: WorkerTestEnv;

  before(async () => {
    env = await setupEnv({ partitions: 4 });
  });
  after(async () => env?.cleanup());

  it("splits the partitions between members, and together they write every record once across rebalances", async () => {
    const brokers = [...(await useKafka()).brokers];
    const groupId = uniqueName("group");
    const everyPartition = env.topicList.flatMap((topic) => [0, 1, 2, 3].map((p) => `${topic}[${p}]`)).sort();
    const registries = [new Registry(), new Registry(), new Registry()];
    const options = (registry: Registry): WorkerOptions => ({
      brokers,
      groupId,
      topics: env.topicList,
      deadLetterTopic: env.dlq,
      sink: env.sink,
      flushIntervalMs: 300,
      maxBatchRows: 500,
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 500,
      registry,
    });

    const produced: TestRecord[] = [];
    let producing = true;
    const producer = (async () => {
      for (let round = 0; producing; round++) {
        const batch = recordsOfEveryType(30, round * 30);
        await produceRecords(env.kafka, env.topics, batch);
        produced.push(...batch);
        await sleep(100);
      }
    })();

    const a = createWorker(options(registries[0]!));
    const b = createWorker(options(registries[1]!));
    const c = createWorker(options(registries[2]!));
    try {
      await a.start();
      await sleep(1500);
      await b.start();
      await waitFor(
        async () => {
          const mine = assigned(a);
          const theirs = assigned(b);
          return (
            mine.length > 0 &&
            theirs.length > 0 &&
            mine.every((partition) => !theirs.includes(partition)) &&
            [...mine, ...theirs].sort().join() === everyPartition.join()
          );
        },
        { what: "a and b to split the partitions" },
      );
      await sleep(2000);
      await a.stop();
      await waitFor(async () => assigned(b).sort().join() === everyPartition.join(), {
        what: "b to take over every partition after a left",
      });
      await c.start();
      await waitFor(async () => assigned(b).length > 0 && assigned(c).length > 0, {
        what: "b and c to split",
      });
      await sleep(1500);
      producing = false;
      await producer;

      const admin = env.kafka.admin();
      await admin.connect();
      try {
        await waitFor(
          async () => {
            for (const topic of env.topicList) {
              const ends = await admin.fetchTopicOffsets(topic);
              const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
              for (const { partition, high } of ends) {
                const offset = committed?.partitions.find((p) => p.partition === partition)?.offset ?? "-1";
                if (offset !== high) return false;
              }
            }
            return true;
          },
          { timeoutMs: 60_000, intervalMs: 300, what: "the group to commit every record" },
        );
      } finally {
        await admin.disconnect();
      }
    } finally {
      producing = false;
      await producer;
      await Promise.all([a.stop(), b.stop(), c.stop()]);
    }

    for (const table of RECORD_TABLES) {
      const expected = produced
        .filter((item) => TABLE_OF_RECORD_TYPE[item.type] === table)
        .map((item) => item.record.event_id)
        .sort();
      const ids = await eventIds(env.sink, table);
      expect(ids.length, `${table}: ${ids.length} rows for ${expected.length} records`).to.equal(
        expected.length,
      );
      expect(ids, table).to.deep.equal(expected);
    }
    const written = await Promise.all(registries.map(rowsWritten));
    for (const [i, rows] of written.entries()) expect(rows, `worker ${i} wrote rows`).to.be.greaterThan(0);
    expect(written.reduce((sum, rows) => sum + rows, 0)).to.be.at.least(produced.length);
  });
});
