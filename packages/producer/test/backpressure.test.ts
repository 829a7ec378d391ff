import { expect } from "chai";
import { TraceContext } from "@tracehouse/context";
import { ErrorCode, isTracehouseError, newEventId, RecordType } from "@tracehouse/schemas";
import { createProducer, DropReason, EmitResult } from "../src/index.js";
import { expectExactlyOnceInOrder } from "./helpers/delivery.js";
import type { Emitted } from "./helpers/delivery.js";
import { useTopicsAndSpool } from "./helpers/kafka.js";

describe("backpressure, flush and close", function () {
  this.timeout(120_000);
  const setup = useTopicsAndSpool();

  it("spills to the spool when the queue is full, without losing order", async () => {
    const producer = createProducer({
      brokers: setup.fixture.brokers,
      topics: setup.fixture.topics,
      spool: { dir: setup.spool.dir },
      maxQueueRecords: 16,
    });
    const contexts = [TraceContext.create(), TraceContext.create(), TraceContext.create()];
    const emitted: Emitted[] = [];
    const results = new Map<string, number>();
    try {
      // synchronously: the sender cannot run, so every 17th record finds the queue full and spills it
      for (let seq = 0; seq < 500; seq++) {
        const context = contexts[seq % 3]!;
        const eventId = newEventId();
        const result = producer.emitEvent(
          { event_id: eventId, event_kind: "CUSTOM", name: "burst", metadata: { seq: String(seq) } },
          context,
        );
        results.set(result, (results.get(result) ?? 0) + 1);
        emitted.push({ eventId, traceId: context.traceId, seq });
      }
    } finally {
      await producer.close();
    }
    expect(results.get(EmitResult.Spooled)).to.equal(Math.floor(500 / 17));
    expect(results.get(EmitResult.Queued)).to.equal(500 - Math.floor(500 / 17));
    const stats = producer.stats();
    expect(stats.spooled).to.equal(Math.floor(500 / 17) * 17);
    expect(stats.sent).to.equal(500);
    expectExactlyOnceInOrder(emitted, await setup.fixture.consume(500));
  });

  it("emitWithBackpressure waits for room instead of spilling", async () => {
    const producer = createProducer({
      brokers: setup.fixture.brokers,
      topics: setup.fixture.topics,
      spool: { dir: setup.spool.dir },
      maxQueueRecords: 16,
      maxBatchRecords: 8,
    });
    const context = TraceContext.create();
    const emitted: Emitted[] = [];
    const results: string[] = [];
    try {
      for (let seq = 0; seq < 300; seq++) {
        const eventId = newEventId();
        results.push(
          await producer.emitWithBackpressure(
            RecordType.Event,
            { event_id: eventId, event_kind: "CUSTOM", name: "paced", metadata: { seq: String(seq) } },
            context,
          ),
        );
        emitted.push({ eventId, traceId: context.traceId, seq });
        expect(producer.stats().queuedRecords).to.be.at.most(16);
      }
    } finally {
      await producer.close();
    }
    expect(new Set(results)).to.deep.equal(new Set([EmitResult.Queued]));
    expect(producer.stats().spooled).to.equal(0);
    expectExactlyOnceInOrder(emitted, await setup.fixture.consume(300));
  });

  it("drops and counts when the policy is drop; drops oversize records; refuses records after close", async () => {
    const producer = createProducer({
      brokers: setup.fixture.brokers,
      topics: setup.fixture.topics,
      spool: false,
      maxQueueRecords: 10,
      maxRecordBytes: 1000,
    });
    const context = TraceContext.create();
    const results = Array.from({ length: 30 }, () =>
      producer.emitEvent({ event_kind: "CUSTOM", name: "x" }, context),
    );
    expect(results.filter((r) => r === EmitResult.Queued)).to.have.length(10);
    expect(results.filter((r) => r === EmitResult.Dropped)).to.have.length(20);
    expect(producer.emitEvent({ event_kind: "CUSTOM", name: "x".repeat(2000) }, context)).to.equal(
      EmitResult.Dropped,
    );
    await producer.close();
    expect(producer.emitEvent({ event_kind: "CUSTOM", name: "late" }, context)).to.equal(EmitResult.Dropped);
    const stats = producer.stats();
    expect(stats.dropped[DropReason.QueueFull]).to.equal(20);
    expect(stats.dropped[DropReason.Oversize]).to.equal(1);
    expect(stats.dropped[DropReason.Closed]).to.equal(1);
    expect(stats.sent).to.equal(10);
    expect(stats.state).to.equal("closed");
    expect(await setup.fixture.consume(10)).to.have.length(10);
  });

  it("flush times out with code TIMEOUT while Kafka is unreachable; close keeps the records in the spool", async () => {
    const seen: number[] = [];
    const producer = createProducer({
      brokers: ["127.0.0.1:1"],
      topics: setup.fixture.topics,
      spool: { dir: setup.spool.dir },
      connectionTimeoutMs: 200,
      retryBackoffMs: 50,
      onStats: (stats) => seen.push(stats.accepted),
      statsIntervalMs: 50,
    });
    for (let i = 0; i < 20; i++) producer.emitEvent({ event_kind: "CUSTOM", name: "x" });
    let error: unknown;
    try {
      await producer.flush({ timeoutMs: 500 });
    } catch (e) {
      error = e;
    }
    expect(isTracehouseError(error) && error.code === ErrorCode.Timeout).to.equal(true);
    expect(producer.stats().state).to.equal("degraded");
    await producer.close({ timeoutMs: 200 });
    const stats = producer.stats();
    expect(stats.spooled).to.equal(20);
    expect(stats.sent).to.equal(0);
    expect(stats.sendErrors).to.be.greaterThan(0);
    expect(seen.length).to.be.greaterThan(1);
    expect(seen[seen.length - 1]).to.equal(20);
  });

  it("rejects a record that does not match its schema without throwing, keeping nothing", async () => {
    const producer = createProducer({
      brokers: setup.fixture.brokers,
      topics: setup.fixture.topics,
      spool: false,
    });
    expect(producer.emitEvent({ event_kind: "NOPE" as never, name: "x" })).to.equal(EmitResult.Dropped);
    expect(producer.emitExecution({ lifecycle: "STARTED", status: "ok", span_id: "bad" })).to.equal(
      EmitResult.Dropped,
    );
    expect(producer.stats().accepted).to.equal(0);
    expect(producer.stats().dropped[DropReason.Invalid]).to.equal(2);
    await producer.close();
  });
});
