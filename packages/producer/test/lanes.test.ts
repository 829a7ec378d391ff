import { expect } from "chai";
import { ConfigResourceTypes } from "kafkajs";
import type { Kafka } from "kafkajs";
import { TraceContext } from "@tracehouse/context";
import { newEventId, partitionOf, RecordType } from "@tracehouse/schemas";
import { createProducer } from "../src/index.js";
import { expectExactlyOnceInOrder, waitFor } from "./helpers/delivery.js";
import type { Emitted } from "./helpers/delivery.js";
import { tempSpoolDir, topicFixture } from "./helpers/kafka.js";
import type { TopicFixture } from "./helpers/kafka.js";

const PARTITIONS = 4;
const LANES = 4;

describe("send lanes: a batch over several idempotent producers, one per set of partitions", function () {
  this.timeout(120_000);
  let fixture: TopicFixture | undefined;
  let spool: ReturnType<typeof tempSpoolDir>;

  beforeEach(() => {
    fixture = undefined;
    spool = tempSpoolDir();
  });

  afterEach(async () => {
    await fixture?.cleanup();
    spool.remove();
  });

  async function setMaxMessageBytes(kafka: Kafka, topic: string, bytes: number): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: topic,
            configEntries: [{ name: "max.message.bytes", value: String(bytes) }],
          },
        ],
      });
    } finally {
      await admin.disconnect();
    }
  }

  it("delivers every record once, in order per trace, over several lanes", async () => {
    fixture = await topicFixture(PARTITIONS);
    const producer = createProducer({
      brokers: fixture.brokers,
      topics: fixture.topics,
      spool: { dir: spool.dir },
      sendLanes: LANES,
      maxBatchRecords: 300,
    });
    const contexts = Array.from({ length: 64 }, () => TraceContext.create());
    const emitted: Emitted[] = [];
    try {
      for (let seq = 0; seq < 3000; seq++) {
        const context = contexts[seq % contexts.length]!;
        const eventId = newEventId();
        producer.emitEvent(
          { event_id: eventId, event_kind: "CUSTOM", name: "lanes", metadata: { seq: String(seq) } },
          context,
        );
        emitted.push({ eventId, traceId: context.traceId, seq });
        if (seq % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
      }
      await producer.flush({ timeoutMs: 60_000 });
    } finally {
      await producer.close();
    }
    expect(producer.stats().sent).to.equal(3000);
    expect(producer.stats().sendErrors).to.equal(0);
    expectExactlyOnceInOrder(emitted, await fixture.consume(3000));
  });

  it("when Kafka refuses one partition of a batch, the records it acknowledged are counted sent and never sent again", async () => {
    // the broker refuses every batch on the errors topic until its limit is raised
    fixture = await topicFixture(PARTITIONS, {
      configs: { [RecordType.Error]: [{ name: "max.message.bytes", value: "64" }] },
    });
    const errors = fixture.topics.topicFor(RecordType.Error);
    const producer = createProducer({
      brokers: fixture.brokers,
      topics: fixture.topics,
      spool: { dir: spool.dir },
      sendLanes: LANES,
      retryBackoffMs: 100,
      maxRetryBackoffMs: 200,
    });
    const refused = TraceContext.create();
    const refusedLane = partitionOf(refused.traceId, PARTITIONS) % LANES;
    const contexts = Array.from({ length: 32 }, () => TraceContext.create());
    const emitted: Emitted[] = [];
    let inRefusedLane = 0;
    try {
      // one batch: the emits are synchronous, the sender runs after them
      for (let seq = 0; seq < 400; seq++) {
        const context = contexts[seq % contexts.length]!;
        const eventId = newEventId();
        producer.emitEvent(
          { event_id: eventId, event_kind: "CUSTOM", name: "partial", metadata: { seq: String(seq) } },
          context,
        );
        emitted.push({ eventId, traceId: context.traceId, seq });
        if (partitionOf(context.traceId, PARTITIONS) % LANES === refusedLane) inRefusedLane += 1;
      }
      for (let i = 0; i < 3; i++) {
        producer.emitError(
          { error_class: "Refused", message: `refused ${i}`, severity: "ERROR", retriable: false },
          refused,
        );
      }
      expect(inRefusedLane, "the test needs records in other lanes").to.be.below(400);
      await waitFor(() => producer.stats().sendErrors >= 2, 30_000, "failed sends");
      const stats = producer.stats();
      expect(stats.sent, "records of the lanes Kafka acknowledged").to.equal(400 - inRefusedLane);
      expect(stats.spooled, "only the unacknowledged records are spooled").to.equal(inRefusedLane + 3);
      await setMaxMessageBytes(fixture.kafka, errors, 1_048_588);
      await producer.flush({ timeoutMs: 60_000 });
      expect(producer.stats().sent).to.equal(403);
    } finally {
      await producer.close();
    }
    const received = await fixture.consume(403);
    expect(received.filter((m) => m.topic === errors)).to.have.length(3);
    expectExactlyOnceInOrder(
      emitted,
      received.filter((m) => m.topic !== errors),
    );
  });
});
