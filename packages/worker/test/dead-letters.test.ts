import { TraceContext, toKafkaHeaders } from "@tracehouse/context";
import { CONTENT_TYPE_HEADER, RecordType, contentTypeOf, encodeRecord } from "@tracehouse/schemas";
import { uniqueName, useKafka } from "@tracehouse/testkit";
import { expect } from "chai";
import type { Message } from "kafkajs";
import { Registry } from "prom-client";
import {
  DeadLetterHeader,
  DeadLetterLimitError,
  createWorker,
  parseDeadLetterHeaders,
} from "../src/index.js";
import { committedOffset, countRows, eventIds, readTopic, setupEnv, waitFor } from "./helpers/env.js";
import type { WorkerTestEnv } from "./helpers/env.js";
import { messageOf, produceRaw, sampleRecord } from "./helpers/records.js";

function goodEvent(i: number): { message: Message; eventId: string } {
  const context = TraceContext.create().child();
  const record = sampleRecord(RecordType.Event, context, i);
  return { message: messageOf({ type: RecordType.Event, record, context }), eventId: record.event_id };
}

function headersFor(context: TraceContext): Record<string, Buffer> {
  return toKafkaHeaders(context, { [CONTENT_TYPE_HEADER]: contentTypeOf(RecordType.Event) });
}

describe("worker: dead letters", function () {
  this.timeout(120_000);
  let env: WorkerTestEnv;
  let brokers: string[];

  before(async () => {
    brokers = [...(await useKafka()).brokers];
    env = await setupEnv({ partitions: 1 });
    // A row ClickHouse rejects: the table refuses events named "poison".
    await env.sink.command(
      `ALTER TABLE ${env.database}.agent_events ADD CONSTRAINT no_poison CHECK name != 'poison'`,
    );
  });
  after(async () => env?.cleanup());

  it("dead-letters corrupt bytes, unknown schemas, invalid and rejected rows; writes their neighbours; commits past them", async () => {
    const good = Array.from({ length: 6 }, (_, i) => goodEvent(i));
    const poisonContext = TraceContext.create().child();
    const valid = encodeRecord(RecordType.Event, sampleRecord(RecordType.Event, poisonContext, 99));
    const unknownFingerprint = Buffer.from(valid);
    unknownFingerprint.writeUInt32LE(0xdeadbeef, 2);
    const rejected = encodeRecord(RecordType.Event, {
      ...sampleRecord(RecordType.Event, poisonContext, 98),
      name: "poison",
    });
    const outOfRange = encodeRecord(RecordType.Event, {
      ...sampleRecord(RecordType.Event, poisonContext, 97),
      event_time: Date.UTC(1850, 0, 1) * 1000,
    });
    const poison: { value: Buffer; reason: string }[] = [
      { value: Buffer.from("definitely not avro"), reason: "bad_marker" },
      { value: unknownFingerprint, reason: "unknown_fingerprint" },
      { value: valid.subarray(0, valid.length - 5), reason: "truncated" },
      { value: rejected, reason: "rejected" },
      { value: outOfRange, reason: "invalid_row" },
    ];
    const messages: Message[] = [];
    good.forEach((item, i) => {
      messages.push(item.message);
      const bad = poison[i];
      if (bad !== undefined) {
        messages.push({ key: poisonContext.traceId, value: bad.value, headers: headersFor(poisonContext) });
      }
    });
    await produceRaw(env.kafka, env.topics.event, messages);

    const groupId = uniqueName("g");
    const registry = new Registry();
    const worker = createWorker({
      brokers,
      groupId,
      topics: [env.topics.event],
      deadLetterTopic: env.dlq,
      sink: env.sink,
      flushIntervalMs: 300,
      maxDeadLetterRatio: 1,
      registry,
    });
    await worker.start();
    try {
      await waitFor(async () => (await committedOffset(groupId, env.topics.event)) === messages.length, {
        what: "the group's offset to pass every record",
      });
    } finally {
      await worker.stop();
    }

    expect(await eventIds(env.sink, "agent_events")).to.deep.equal(good.map((item) => item.eventId).sort());
    expect(await countRows(env.sink, "agent_events", false)).to.equal(good.length);

    const letters = await readTopic(env.kafka, env.dlq, poison.length);
    expect(letters).to.have.length(poison.length);
    const byOffset = new Map(
      letters.map((letter) => [parseDeadLetterHeaders(letter.headers)!.offset, letter]),
    );
    poison.forEach((bad, i) => {
      const offset = String(2 * i + 1);
      const letter = byOffset.get(offset);
      expect(letter, `dead letter of offset ${offset}`).to.not.equal(undefined);
      const info = parseDeadLetterHeaders(letter!.headers)!;
      expect(info.reason).to.equal(bad.reason);
      expect(info.topic).to.equal(env.topics.event);
      expect(info.partition).to.equal(0);
      expect(info.error).to.not.equal("");
      expect(info.group).to.equal(groupId);
      expect(info.value).to.equal("original");
      expect(Date.parse(info.time)).to.be.within(Date.now() - 120_000, Date.now());
      expect(Number(info.timestamp)).to.be.greaterThan(0);
      expect(Buffer.compare(letter!.value!, bad.value)).to.equal(0);
      expect(letter!.key!.toString()).to.equal(poisonContext.traceId);
      expect(letter!.headers!.traceparent!.toString()).to.equal(poisonContext.traceparent);
      expect(letter!.headers![CONTENT_TYPE_HEADER]!.toString()).to.equal(contentTypeOf(RecordType.Event));
      if (bad.reason === "rejected") expect(info.table).to.equal("agent_events");
    });

    const metrics = await registry.getSingleMetricAsString("tracehouse_worker_dead_letters_total");
    for (const bad of poison) expect(metrics).to.match(new RegExp(`reason="${bad.reason}"[^\\n]* 1`));
    expect(DeadLetterHeader.Reason).to.equal("tracehouse-dlq-reason");
  });

  it("stops loudly, without committing or dead-lettering them, when a partition's dead-letter ratio is exceeded", async () => {
    const topicAdmin = await setupEnv({ partitions: 1, database: env.database });
    try {
      const good = Array.from({ length: 5 }, (_, i) => goodEvent(100 + i));
      const garbage = Array.from({ length: 30 }, (_, i) => ({ value: Buffer.from(`garbage ${i}`) }));
      await produceRaw(topicAdmin.kafka, topicAdmin.topics.event, [
        ...good.map((item) => item.message),
        ...garbage,
      ]);
      const groupId = uniqueName("g");
      const worker = createWorker({
        brokers,
        groupId,
        topics: [topicAdmin.topics.event],
        deadLetterTopic: topicAdmin.dlq,
        sink: topicAdmin.sink,
        deadLetterWindow: 20,
        maxDeadLetterRatio: 0.25,
      });
      await worker.start();
      const error = await worker.done.then(
        () => null,
        (failure: unknown) => failure,
      );
      expect(error).to.be.instanceOf(DeadLetterLimitError);
      expect((error as DeadLetterLimitError).topic).to.equal(topicAdmin.topics.event);
      expect((error as DeadLetterLimitError).retriable).to.equal(false);
      expect(worker.status().state).to.equal("failed");
      expect(await committedOffset(groupId, topicAdmin.topics.event)).to.be.at.most(good.length);
      expect(await readTopic(topicAdmin.kafka, topicAdmin.dlq, 1, 2000)).to.have.length(0);
    } finally {
      await topicAdmin.admin.cleanup();
      await topicAdmin.sink.close();
    }
  });
});
