import { EncodedRows, RecordTable, createSink } from "@tracehouse/clickhouse";
import type { Row } from "@tracehouse/clickhouse";
import { TraceContext } from "@tracehouse/context";
import { PartitionAcks, RecordType, noopLogger } from "@tracehouse/schemas";
import { embeddedDataDir } from "@tracehouse/testkit";
import { expect } from "chai";
import { Partitioners } from "kafkajs";
import type { KafkaMessage } from "kafkajs";
import { Registry } from "prom-client";
import { Chain } from "../src/internal/Chain.js";
import { DeadLetterSender } from "../src/internal/DeadLetterSender.js";
import type { DeadLetter } from "../src/internal/DeadLetterSender.js";
import { PartitionLedger } from "../src/internal/PartitionLedger.js";
import type { PartitionOffsets } from "../src/internal/PartitionOffsets.js";
import { BoundedRange } from "../src/internal/steps/bounded-range.js";
import type { CommitOffset } from "../src/internal/steps/step.js";
import { WorkerMetrics } from "../src/internal/WorkerMetrics.js";
import { DeadLetterRatioPolicy } from "../src/internal/steps/dead-letter-policy.js";
import { DeadLetterStep } from "../src/internal/steps/dead-letter.js";
import { Decoder } from "../src/internal/steps/decode.js";
import { InsertStep } from "../src/internal/steps/insert.js";
import { Projector } from "../src/internal/steps/project.js";
import { Occupancy } from "../src/internal/steps/step.js";
import {
  DeadLetterLimitError,
  RetriesExhaustedError,
  parseDeadLetterHeaders,
  resolveWorkerConfig,
} from "../src/index.js";
import { setupEnv, readTopic } from "./helpers/env.js";
import type { WorkerTestEnv } from "./helpers/env.js";
import { FaultInjectingSink } from "./helpers/faults.js";
import { messageOf, sampleRecord } from "./helpers/records.js";
import { TestContext } from "./helpers/steps.js";

const retry = { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 5 };

/** The agent_events row of a sample event, as the project step makes it. */
function eventRow(i: number): Row {
  const context = TraceContext.create().child();
  const message = messageOf({
    type: RecordType.Event,
    record: sampleRecord(RecordType.Event, context, i),
    context,
  });
  const decoding = new Decoder().decode({ key: null, value: message.value as Buffer, timestamp: "0" });
  if (!decoding.ok) throw new Error(decoding.error);
  const projection = new Projector().project(decoding.record, message.headers as never);
  if (!projection.ok) throw new Error(projection.error);
  return projection.mapped.row;
}

/** Letters the dead-letter step handed over (redrive's "still dead" sink is of this kind). */
class KeptLetters {
  readonly topic = "kept";
  readonly letters: DeadLetter[] = [];
  async send(letters: readonly DeadLetter[]): Promise<void> {
    this.letters.push(...letters);
  }
}

describe("chain steps against the real engine and broker", function () {
  this.timeout(120_000);
  let env: WorkerTestEnv;
  before(async () => {
    env = await setupEnv({ partitions: 1 });
  });
  after(async () => env?.cleanup());

  function insertStep(context: TestContext, sink = env.sink) {
    const kept = new KeptLetters();
    const deadLetters = new DeadLetterStep(context, kept, new DeadLetterRatioPolicy(100, 1), retry);
    const occupancy = new Occupancy();
    const step = new InsertStep(
      context,
      { maxConcurrentInserts: 2, retry },
      sink,
      deadLetters,
      occupancy,
      () => undefined,
    );
    return { step, kept, occupancy };
  }

  function batchOf(offsets: PartitionOffsets, rows: Row[]) {
    const sources = rows.map(() => {
      const offset = offsets.end < 0 ? 0 : offsets.end;
      offsets.add(offset);
      return { offsets, offset };
    });
    const encoded = new EncodedRows(RecordTable.Events);
    for (const row of rows) encoded.add(row);
    return {
      key: "k",
      table: RecordTable.Events,
      rows: encoded,
      sources,
      bytes: rows.length,
      openedAt: Date.now(),
      lastRowAt: Date.now(),
      topics: new Set(["t"]),
    };
  }

  it("insert: writes a batch and marks its offsets done", async () => {
    const context = new TestContext();
    const { step, occupancy } = insertStep(context);
    const offsets = new PartitionLedger().get("t", 0);
    const rows = [eventRow(1), eventRow(2), eventRow(3)];
    occupancy.rows = 3;
    step.submit(batchOf(offsets, rows));
    await step.join();
    const stored = await env.sink.query<{ n: number }>(
      `SELECT count() AS n FROM ${env.database}.agent_events WHERE event_id IN {ids:Array(String)}`,
      { ids: rows.map((row) => row.event_id) },
    );
    expect([Number(stored[0]!.n), offsets.committable(), step.written, occupancy.rows]).to.deep.equal([
      3, 3, 3, 0,
    ]);
    expect(await context.metric("tracehouse_worker_rows_total", 'table="agent_events"')).to.equal(3);
  });

  it("insert: a batch can start only while a slot is free and its key has nothing queued or running", async () => {
    const context = new TestContext();
    const slow = new FaultInjectingSink(env.sink, { delayMs: 200 });
    const step = new InsertStep(
      context,
      { maxConcurrentInserts: 1, retry },
      slow,
      new DeadLetterStep(context, new KeptLetters(), new DeadLetterRatioPolicy(100, 1), retry),
      new Occupancy(),
      () => undefined,
    );
    const offsets = new PartitionLedger().get("t", 0);
    expect([step.canStart("k"), step.canStart("other")], "idle").to.deep.equal([true, true]);
    step.submit(batchOf(offsets, [eventRow(1)]));
    expect([step.canStart("k"), step.canStart("other")], "the only slot busy").to.deep.equal([false, false]);
    await step.join();
    expect([step.canStart("k"), step.canStart("other"), step.written], "done").to.deep.equal([true, true, 1]);
  });

  it("insert: a batch cannot start while the sink runs as many inserts as it can at once, whatever maxConcurrentInserts allows", async () => {
    const offsets = new PartitionLedger().get("t", 0);
    const otherWhileOneRuns = async (sessions: number): Promise<boolean> => {
      const context = new TestContext();
      const engine = createSink({ dataDir: embeddedDataDir(), database: env.database, sessions });
      const step = new InsertStep(
        context,
        { maxConcurrentInserts: 2, retry },
        new FaultInjectingSink(engine, { delayMs: 200 }),
        new DeadLetterStep(context, new KeptLetters(), new DeadLetterRatioPolicy(100, 1), retry),
        new Occupancy(),
        () => undefined,
      );
      step.submit(batchOf(offsets, [eventRow(1)]));
      const free = step.canStart("other");
      await step.join();
      await engine.close();
      return free;
    };
    expect(
      await otherWhileOneRuns(1),
      "one engine session: the other table's batch goes on filling",
    ).to.equal(false);
    expect(await otherWhileOneRuns(2), "two sessions: it can start").to.equal(true);
  });

  it("insert: splits a batch the engine rejects until the rejected row is found; its neighbours are written", async () => {
    const context = new TestContext();
    const { step, kept } = insertStep(context);
    const offsets = new PartitionLedger().get("t", 0);
    const rows = [eventRow(1), eventRow(2), { ...eventRow(3), event_time: "not a time" }, eventRow(4)];
    step.submit(batchOf(offsets, rows));
    await step.join();
    expect(kept.letters.map((letter) => [letter.source.offset, letter.reason, letter.table])).to.deep.equal([
      [2, "rejected", "agent_events"],
    ]);
    expect([step.written, offsets.committable(), context.failures]).to.deep.equal([3, 4, []]);
  });

  it("insert: each retry is one attempt of the sink (no retry inside a retry), and every retry is counted", async () => {
    const context = new TestContext();
    const faulty = new FaultInjectingSink(env.sink, { failBefore: new Set([1, 2]) });
    const { step } = insertStep(context, faulty);
    const offsets = new PartitionLedger().get("t", 0);
    step.submit(batchOf(offsets, [eventRow(1)]));
    await step.join();
    expect([faulty.inserts, step.written]).to.deep.equal([3, 1]);
    expect(new Set(faulty.tokens).size, "every attempt carries the batch's dedup token").to.equal(1);
    expect(await context.metric("tracehouse_worker_retries_total", 'operation="insert"')).to.equal(2);
  });

  it("insert: an outage outliving its retries stops the chain, with nothing marked done", async () => {
    const context = new TestContext();
    const faulty = new FaultInjectingSink(env.sink, { failBefore: new Set([1, 2, 3, 4]) });
    const { step } = insertStep(context, faulty);
    const offsets = new PartitionLedger().get("t", 0);
    step.submit(batchOf(offsets, [eventRow(1)]));
    await step.join();
    expect(context.failed).to.be.instanceOf(RetriesExhaustedError);
    expect([faulty.inserts, offsets.committable()]).to.deep.equal([3, 0]);
  });

  it("dead-letter: sends letters to the dead-letter topic with their reason, then marks them done", async () => {
    const context = new TestContext();
    const sender = new DeadLetterSender(env.kafka, env.dlq, "g", 256 * 1024);
    await sender.connect();
    try {
      const step = new DeadLetterStep(context, sender, new DeadLetterRatioPolicy(100, 1), retry);
      const offsets = new PartitionLedger().get("src", 0);
      const letters: DeadLetter[] = [0, 1].map((offset) => {
        offsets.add(offset);
        return {
          source: { offsets, offset },
          message: { key: null, value: Buffer.from(`poison ${offset}`), timestamp: "7" },
          reason: "bad_marker",
          error: "not a record",
        };
      });
      await step.submit(letters);
      const read = await readTopic(env.kafka, env.dlq, 2);
      expect(read.map((m) => [m.value?.toString(), parseDeadLetterHeaders(m.headers)?.reason])).to.deep.equal(
        [
          ["poison 0", "bad_marker"],
          ["poison 1", "bad_marker"],
        ],
      );
      expect([step.deadLettered, offsets.committable()]).to.deep.equal([2, 2]);
    } finally {
      await sender.disconnect();
    }
  });

  it("dead-letter: stops the chain when the policy refuses, sending nothing and marking nothing done", async () => {
    const context = new TestContext();
    const kept = new KeptLetters();
    const step = new DeadLetterStep(context, kept, new DeadLetterRatioPolicy(10, 0.1), retry);
    const offsets = new PartitionLedger().get("src", 0);
    const letters: DeadLetter[] = [0, 1].map((offset) => {
      offsets.add(offset);
      return { source: { offsets, offset }, message: null, reason: "rejected", error: "no" };
    });
    await step.submit(letters);
    expect(context.failed).to.be.instanceOf(DeadLetterLimitError);
    expect([kept.letters.length, offsets.committable()]).to.deep.equal([0, 0]);
  });

  it("partition acks: a send kafkajs resolves without writing a partition is found out", async () => {
    const acks = new PartitionAcks();
    const producer = env.kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: () => acks.wrap(Partitioners.DefaultPartitioner()),
      retry: { retries: 0 },
    });
    await producer.connect();
    try {
      const written = [{ value: "a" }, { value: "b" }];
      const answers = await producer.send({ topic: env.dlq, acks: -1, messages: written });
      expect(acks.unanswered(written, () => env.dlq, answers)).to.deep.equal([]);
      // A partition missing from the metadata: kafkajs 2.2.4 skips it and resolves the send.
      const lost = [{ value: "c", partition: 7 }];
      const none = await producer.send({ topic: env.dlq, acks: -1, messages: lost });
      expect(none, "kafkajs answered nothing, and did not fail").to.deep.equal([]);
      expect(acks.unanswered(lost, () => env.dlq, none)).to.deep.equal(lost);
    } finally {
      await producer.disconnect();
    }
  });

  it("chain: rows that arrive while their table's insert runs wait in one batch, sealed when it settles", async () => {
    let release = (): void => undefined;
    const slow = new FaultInjectingSink(env.sink, { gate: new Promise<void>((done) => (release = done)) });
    const chain = new Chain(
      {
        config: resolveWorkerConfig({ flushIntervalMs: 200, maxConcurrentInserts: 1 }),
        sink: slow,
        deadLetters: new KeptLetters(),
        metrics: new WorkerMetrics(new Registry()),
        logger: noopLogger,
      },
      {
        pause: () => undefined,
        resume: () => undefined,
        commit: async () => undefined,
        fail: () => undefined,
        hold: () => undefined,
      },
    );
    const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    let offset = 0;
    const submit = (count: number): Promise<void> => {
      const messages = Array.from({ length: count }, () => {
        const context = TraceContext.create().child();
        const { value } = messageOf({
          type: RecordType.Event,
          record: sampleRecord(RecordType.Event, context, offset),
          context,
        });
        return {
          offset: String(offset++),
          key: null,
          value,
          headers: {},
          timestamp: "0",
          attributes: 0,
        } as KafkaMessage;
      });
      return chain.submit({ topic: "src", partition: 0, messages, endOffset: offset, highWatermark: offset });
    };
    try {
      await chain.start();
      await submit(1);
      while (slow.inserts === 0) await sleep(10); // sealed after one interval; its insert waits at the gate
      await submit(2);
      await sleep(400); // two intervals: the open batch would have been sealed and queued
      await submit(1);
      await sleep(200);
      release();
      while (chain.stats().written < 4) await sleep(10);
    } finally {
      chain.close();
    }
    expect(slow.inserts, "the first row, then the three that waited for it").to.equal(2);
  });

  it("chain: a bounded range through every step ends complete: rows written, poison dead-lettered, the end committed", async () => {
    const events = [1, 2, 3].map((i) => {
      const context = TraceContext.create().child();
      return messageOf({
        type: RecordType.Event,
        record: sampleRecord(RecordType.Event, context, i),
        context,
      });
    });
    const values = [
      events[0]!.value,
      events[1]!.value,
      Buffer.from("poison"),
      events[2]!.value,
      events[0]!.value,
    ];
    const messages = values.map(
      (value, offset) =>
        ({
          offset: String(offset),
          key: null,
          value,
          headers: {},
          timestamp: "0",
          attributes: 0,
        }) as KafkaMessage,
    );
    const range = new BoundedRange([{ topic: "src", partition: 0, from: 0, to: 4 }]);
    const kept = new KeptLetters();
    const commits: CommitOffset[] = [];
    const actions: string[] = [];
    const chain = new Chain(
      {
        config: resolveWorkerConfig({ maxDeadLetterRatio: 1, flushIntervalMs: 20 }),
        sink: env.sink,
        deadLetters: kept,
        metrics: new WorkerMetrics(new Registry()),
        logger: noopLogger,
        range,
      },
      {
        pause: () => actions.push("pause"),
        resume: () => actions.push("resume"),
        commit: async (offsets) => void commits.push(...offsets),
        fail: (error) => actions.push(`fail ${error.message}`),
        hold: (topic, partition) => actions.push(`hold ${topic}/${partition}`),
      },
    );
    try {
      await chain.start();
      await chain.submit({ topic: "src", partition: 0, messages, endOffset: 5, highWatermark: 5 });
      await range.done;
      await chain.drain();
    } finally {
      chain.close();
    }
    expect(actions).to.deep.equal(["hold src/0"]);
    expect(kept.letters.map((letter) => [letter.source.offset, letter.reason])).to.deep.equal([
      [2, "bad_marker"],
    ]);
    expect(commits.at(-1)).to.deep.equal({ topic: "src", partition: 0, offset: "4" });
    expect(chain.stats()).to.deep.include({ written: 3, deadLettered: 1, skipped: 0, bufferedRows: 0 });
  });
});
