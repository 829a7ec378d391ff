import { TraceContext } from "@tracehouse/context";
import { RecordType } from "@tracehouse/schemas";
import { uniqueName, useKafka } from "@tracehouse/testkit";
import { expect } from "chai";
import type { Message } from "kafkajs";
import { DeadLetterHeader, createWorker, parseDeadLetterHeaders, redrive } from "../src/index.js";
import type { RedriveOptions } from "../src/index.js";
import { committedOffset, countRows, eventIds, readTopic, setupEnv, waitFor } from "./helpers/env.js";
import type { WorkerTestEnv } from "./helpers/env.js";
import { newerExecution, newerExecutionSchema } from "./helpers/newer-writer.js";
import { messageOf, produceRaw, sampleRecord } from "./helpers/records.js";

describe("worker: newer writers and redrive", function () {
  this.timeout(180_000);
  let env: WorkerTestEnv;
  let brokers: string[];
  let schemasTopic: string;

  before(async () => {
    brokers = [...(await useKafka()).brokers];
    env = await setupEnv({ partitions: 1 });
    schemasTopic = await env.admin.create("wk_schemas", {
      configEntries: [{ name: "cleanup.policy", value: "compact" }],
    });
  });
  after(async () => env?.cleanup());

  async function runWorker(topic: string, until: number, deadLetterTopic = env.dlq): Promise<void> {
    const groupId = uniqueName("g");
    const worker = createWorker({
      brokers,
      groupId,
      topics: [topic],
      deadLetterTopic,
      schemasTopic,
      sink: env.sink,
      flushIntervalMs: 200,
      maxDeadLetterRatio: 1,
    });
    await worker.start();
    try {
      await waitFor(async () => (await committedOffset(groupId, topic)) === until, {
        what: "the group's offset to pass every record",
      });
    } finally {
      await worker.stop();
    }
  }

  it("stores a newer writer's records once its schema is in the schemas topic, dead-letters nothing", async () => {
    const topic = await env.admin.create("wk_newer", { numPartitions: 1 });
    const newer = newerExecutionSchema("tokens_per_second");
    await produceRaw(env.kafka, schemasTopic, [{ key: newer.fingerprint, value: newer.json }]);
    const records = Array.from({ length: 3 }, (_, i) => newerExecution(newer.fingerprint, 10 + i));
    await produceRaw(
      env.kafka,
      topic,
      records.map((r) => r.message),
    );
    const lettersBefore = (await readTopic(env.kafka, env.dlq, 1, 1000)).length;
    await runWorker(topic, records.length);
    const stored = await eventIds(env.sink, "agent_executions");
    expect(stored).to.include.members(records.map((r) => r.eventId));
    expect(await readTopic(env.kafka, env.dlq, lettersBefore + 1, 1000)).to.have.length(lettersBefore);
  });

  it("redrives unknown-fingerprint dead letters once the schema is published; twice changes nothing", async () => {
    await env.sink.command(`TRUNCATE TABLE ${env.database}.agent_executions`);
    const dlq = await env.admin.create("wk_dlq2", { numPartitions: 2 });
    const topic = await env.admin.create("wk_exec", { numPartitions: 1 });
    const newer = newerExecutionSchema("cost_usd");
    const records = Array.from({ length: 4 }, (_, i) => newerExecution(newer.fingerprint, i));
    const known = sampleRecord(RecordType.Execution, TraceContext.create(), 50);
    const messages: Message[] = [
      ...records.map((r) => r.message),
      messageOf({ type: RecordType.Execution, record: known, context: TraceContext.create() }),
      { key: "x", value: Buffer.from("not avro at all") },
    ];
    await produceRaw(env.kafka, topic, messages);
    await runWorker(topic, messages.length, dlq);
    expect(await eventIds(env.sink, "agent_executions")).to.deep.equal([known.event_id]);
    const letters = await readTopic(env.kafka, dlq, 5, 5000);
    expect(letters.map((l) => parseDeadLetterHeaders(l.headers)!.reason).sort()).to.deep.equal([
      "bad_marker",
      ...records.map(() => "unknown_fingerprint"),
    ]);

    // A dead letter that holds only a pointer to its original (the form used for oversize records).
    const late = newerExecution(newer.fingerprint, 7);
    await produceRaw(env.kafka, topic, [late.message]);
    await produceRaw(env.kafka, dlq, [
      {
        key: late.message.key ?? null,
        value: Buffer.alloc(0),
        headers: {
          [DeadLetterHeader.Reason]: "unknown_fingerprint",
          [DeadLetterHeader.Error]: "unknown writer schema fingerprint",
          [DeadLetterHeader.Topic]: topic,
          [DeadLetterHeader.Partition]: "0",
          [DeadLetterHeader.Offset]: String(messages.length),
          [DeadLetterHeader.Time]: new Date().toISOString(),
          [DeadLetterHeader.Value]: "pointer",
        },
      },
    ]);

    const options: RedriveOptions = {
      brokers,
      deadLetterTopic: dlq,
      schemasTopic,
      sink: env.sink,
      flushIntervalMs: 200,
      reasons: ["unknown_fingerprint"],
    };
    const before = await redrive(options);
    expect(before).to.deep.include({ read: 6, written: 0, stillDead: 5, skipped: 1 });
    expect(await eventIds(env.sink, "agent_executions")).to.deep.equal([known.event_id]);

    await produceRaw(env.kafka, schemasTopic, [{ key: newer.fingerprint, value: newer.json }]);
    const progress: number[] = [];
    const first = await redrive({ ...options, onProgress: (p) => progress.push(p.records / p.total) });
    expect(first).to.deep.include({ read: 6, written: 5, stillDead: 0, skipped: 1 });
    expect(progress.at(-1)).to.equal(1);
    const expected = [known.event_id, late.eventId, ...records.map((r) => r.eventId)].sort();
    expect(await eventIds(env.sink, "agent_executions")).to.deep.equal(expected);
    expect(await countRows(env.sink, "agent_executions", false)).to.equal(expected.length);
    const cost = await env.sink.query<{ agent_name: string; execution_id: string }>(
      `SELECT agent_name, execution_id FROM ${env.database}.agent_executions FINAL WHERE event_id = '${records[1]!.eventId}'`,
    );
    expect(cost).to.deep.equal([{ agent_name: "agent-1", execution_id: "exec-1" }]);

    const second = await redrive({ ...options, reasons: undefined });
    expect(second).to.deep.include({ read: 6, written: 5, stillDead: 1, skipped: 0 });
    expect(await eventIds(env.sink, "agent_executions")).to.deep.equal(expected);
    expect(await countRows(env.sink, "agent_executions", false), "no row inserted twice").to.equal(
      expected.length,
    );
    expect(await readTopic(env.kafka, dlq, 7, 2000), "nothing dead-lettered again").to.have.length(6);

    const none = await redrive({ ...options, sinceMs: Date.now() + 60_000 });
    expect(none).to.deep.include({ written: 0, stillDead: 0 });
  });
});
