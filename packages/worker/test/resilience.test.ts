import { RecordType } from "@tracehouse/schemas";
import { localKafkaControl, uniqueName, useKafka } from "@tracehouse/testkit";
import { expect } from "chai";
import { Registry } from "prom-client";
import { RECORD_TABLES, TABLE_OF_RECORD_TYPE } from "@tracehouse/clickhouse";
import { createWorker } from "../src/index.js";
import type { WorkerOptions } from "../src/index.js";
import { countRows, eventIds, setupEnv, waitFor } from "./helpers/env.js";
import type { WorkerTestEnv } from "./helpers/env.js";
import { FaultInjectingSink } from "./helpers/faults.js";
import { produceRecords, recordsOfEveryType } from "./helpers/records.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function committedOffsets(
  env: WorkerTestEnv,
  groupId: string,
  topics: readonly string[],
): Promise<number> {
  const admin = env.kafka.admin();
  await admin.connect();
  try {
    let total = 0;
    for (const entry of await admin.fetchOffsets({ groupId, topics: [...topics] })) {
      for (const partition of entry.partitions) total += Math.max(0, Number(partition.offset));
    }
    return total;
  } finally {
    await admin.disconnect();
  }
}

async function get(url: string): Promise<{ status: number; body: string; type: string | null }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text(), type: response.headers.get("content-type") };
}

describe("worker: retries, backpressure, health, broker outage", function () {
  this.timeout(240_000);
  let env: WorkerTestEnv;
  let brokers: string[];

  beforeEach(async () => {
    brokers = [...(await useKafka()).brokers];
    env = await setupEnv({ partitions: 2 });
  });
  afterEach(async () => env?.cleanup());

  it("retries transient insert failures with backoff, commits nothing meanwhile, and recognises a retried batch by its dedup token", async () => {
    const items = recordsOfEveryType(200).filter((item) => item.type === RecordType.Event);
    await produceRecords(env.kafka, env.topics, items);
    const sink = new FaultInjectingSink(env.sink, {
      failBefore: new Set([1, 2, 3]),
      failAfter: new Set([4]),
      delayMs: 50,
    });
    const groupId = uniqueName("g");
    const registry = new Registry();
    const worker = createWorker({
      brokers,
      groupId,
      topics: [env.topics.event],
      deadLetterTopic: env.dlq,
      sink,
      maxBatchRows: 10_000,
      flushIntervalMs: 500,
      retryBaseDelayMs: 400,
      retryMaxDelayMs: 800,
      healthPort: 0,
      healthHost: "127.0.0.1",
      registry,
    });
    await worker.start();
    try {
      const { port } = worker.healthAddress()!;
      const notReady = await waitFor(
        async () => {
          const ready = await get(`http://127.0.0.1:${port}/readyz`);
          return ready.status === 503 ? ready : null;
        },
        { intervalMs: 20, what: "/readyz to report the failing inserts" },
      );
      expect(JSON.parse(notReady.body)).to.include({ ok: false, insertRetrying: true });
      expect(await committedOffsets(env, groupId, [env.topics.event])).to.equal(0);
      await waitFor(async () => (await countRows(env.sink, "agent_events")) === items.length, {
        what: "every event row",
      });
      await waitFor(async () => (await committedOffsets(env, groupId, [env.topics.event])) === items.length, {
        what: "the commit after the insert",
      });
      expect((await get(`http://127.0.0.1:${port}/readyz`)).status).to.equal(200);
    } finally {
      await worker.stop();
    }
    expect(sink.inserts).to.equal(5);
    expect(new Set(sink.tokens).size, "one batch, one token, retried four times").to.equal(1);
    expect(
      await countRows(env.sink, "agent_events", false),
      "the fifth insert was dropped as a duplicate",
    ).to.equal(items.length);
    const retries = await registry.getSingleMetric("tracehouse_worker_retries_total")!.get();
    expect(retries.values.find((value) => value.labels.operation === "insert")?.value).to.equal(4);
  });

  it("pauses partitions while batches pile up, keeps memory bounded, and resumes them", async () => {
    const items = recordsOfEveryType(400);
    for (let i = 0; i < items.length; i += 120)
      await produceRecords(env.kafka, env.topics, items.slice(i, i + 120));
    const sink = new FaultInjectingSink(env.sink, { delayMs: 150 });
    const maxBufferedBytes = 64 * 1024;
    const maxBytesPerPartition = 8 * 1024;
    const maxBytesPerFetch = 32 * 1024;
    const worker = createWorker({
      brokers,
      groupId: uniqueName("g"),
      topics: env.topicList,
      deadLetterTopic: env.dlq,
      sink,
      maxBatchRows: 100,
      maxBatchBytes: 16 * 1024,
      maxBufferedBytes,
      maxPendingBatches: 1,
      maxConcurrentInserts: 1,
      maxBytesPerPartition,
      maxBytesPerFetch,
      flushIntervalMs: 200,
    });
    let maxPaused = 0;
    let maxBuffered = 0;
    const sampler = setInterval(() => {
      const status = worker.status();
      maxPaused = Math.max(maxPaused, status.pausedPartitions);
      maxBuffered = Math.max(maxBuffered, status.bufferedBytes);
    }, 10);
    await worker.start();
    try {
      for (const table of RECORD_TABLES) {
        const wanted = items.filter((item) => TABLE_OF_RECORD_TYPE[item.type] === table).length;
        await waitFor(async () => (await countRows(env.sink, table)) === wanted, {
          timeoutMs: 120_000,
          what: `${wanted} rows in ${table}`,
        });
      }
      await waitFor(async () => worker.status().pausedPartitions === 0, { what: "every partition resumed" });
    } finally {
      clearInterval(sampler);
      await worker.stop();
    }
    expect(maxPaused).to.be.greaterThan(0);
    // Paused partitions stop the next fetch; the one in flight still arrives (Kafka may exceed the
    // fetch size by one record batch of at most 20 records here).
    expect(maxBuffered).to.be.at.most(maxBufferedBytes + maxBytesPerFetch + 20 * 400);
  });

  it("serves /healthz, /readyz and /metrics, and closes them on stop", async () => {
    await produceRecords(env.kafka, env.topics, recordsOfEveryType(10));
    const worker = createWorker({
      brokers,
      groupId: uniqueName("g"),
      topics: env.topicList,
      deadLetterTopic: env.dlq,
      sink: env.sink,
      flushIntervalMs: 100,
      healthPort: 0,
      healthHost: "127.0.0.1",
    });
    await worker.start();
    const { port } = worker.healthAddress()!;
    const base = `http://127.0.0.1:${port}`;
    try {
      const live = await get(`${base}/healthz`);
      expect(live.status).to.equal(200);
      expect(JSON.parse(live.body)).to.include({ ok: true, state: "running" });
      const ready = await get(`${base}/readyz`);
      expect(ready.status).to.equal(200);
      expect(JSON.parse(ready.body)).to.include({ ok: true, joined: true });
      await waitFor(async () => (await countRows(env.sink, "spans")) === 10, { what: "rows" });
      const metrics = await get(`${base}/metrics`);
      expect(metrics.status).to.equal(200);
      expect(metrics.type).to.match(/^text\/plain/);
      for (const name of [
        "tracehouse_worker_consumer_lag{",
        "tracehouse_worker_records_total{",
        'outcome="written"',
        "tracehouse_worker_rows_total{",
        "tracehouse_worker_records_per_second ",
        "tracehouse_worker_rows_per_second{",
        "tracehouse_worker_batch_rows_bucket{",
        "tracehouse_worker_insert_duration_seconds_bucket{",
        "tracehouse_worker_retries_total",
        "tracehouse_worker_dead_letters_total",
        "tracehouse_worker_paused_partitions ",
        "tracehouse_worker_commits_total ",
        "process_resident_memory_bytes ",
      ]) {
        expect(metrics.body, name).to.include(name);
      }
      expect(metrics.body).to.match(/tracehouse_worker_rows_total\{table="spans"\} 10\b/);
      expect((await get(`${base}/nope`)).status).to.equal(404);
    } finally {
      await worker.stop();
    }
    let refused = false;
    await fetch(`${base}/healthz`).catch(() => (refused = true));
    expect(refused).to.equal(true);
  });

  /** Kills the broker once rows are flowing, keeps it down `outageMs`, and checks everything lands and is committed. */
  async function rideOutOutage(
    outageMs: number,
    retryMaxDelayMs: number,
    kafkaConfig?: WorkerOptions["kafkaConfig"],
  ): Promise<void> {
    const control = await localKafkaControl();
    const first = recordsOfEveryType(300);
    await produceRecords(env.kafka, env.topics, first);
    const groupId = uniqueName("g");
    const worker = createWorker({
      brokers,
      groupId,
      topics: env.topicList,
      deadLetterTopic: env.dlq,
      sink: new FaultInjectingSink(env.sink, { delayMs: 200 }),
      maxBatchRows: 50,
      flushIntervalMs: 200,
      retryMaxDelayMs,
      ...(kafkaConfig === undefined ? {} : { kafkaConfig }),
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 500,
    });
    await worker.start();
    try {
      await waitFor(async () => (await countRows(env.sink, "agent_events")) > 0, { what: "the first rows" });
      control.kill();
      await sleep(outageMs);
      control.start();
      const second = recordsOfEveryType(50, 300);
      await produceRecords(env.kafka, env.topics, second);
      const all = [...first, ...second];
      await waitFor(async () => (await committedOffsets(env, groupId, env.topicList)) === all.length, {
        timeoutMs: 120_000,
        intervalMs: 500,
        what: "every record committed after the outage",
      });
      for (const table of RECORD_TABLES) {
        const expected = all
          .filter((item) => TABLE_OF_RECORD_TYPE[item.type] === table)
          .map((item) => item.record.event_id)
          .sort();
        expect(await eventIds(env.sink, table), table).to.deep.equal(expected);
      }
      expect(worker.status().state).to.equal("running");
    } finally {
      await worker.stop();
    }
  }

  it("rides out a broker outage: nothing lost, everything committed once the broker is back", async () => {
    await rideOutOutage(3000, 2000);
  });

  it("rides out an outage longer than its commit retries: a commit waits for the restarted consumer to rejoin", async () => {
    // kafkajs restarts a crashed consumer seconds later (its retry time), with no group to commit to meanwhile;
    // 10 commit retries with delays capped at 500 ms end within ~3 s; the broker stays down 15 s.
    await rideOutOutage(15_000, 500, { retry: { initialRetryTime: 4000, retries: 1 } });
  });
});
