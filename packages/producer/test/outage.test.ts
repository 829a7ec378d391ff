import { expect } from "chai";
import { TraceContext } from "@tracehouse/context";
import { newEventId } from "@tracehouse/schemas";
import { localKafkaControl } from "@tracehouse/testkit";
import { createProducer, EmitResult, ProducerState } from "../src/index.js";
import type { Producer } from "../src/index.js";
import { tempSpoolDir, topicFixture } from "./helpers/kafka.js";
import type { Received, TopicFixture } from "./helpers/kafka.js";

const TRACES = 12;
const t0 = Date.now();
const log = (level: string) => (message: string, fields?: object) =>
  console.log(`${Date.now() - t0} ${level} ${message} ${fields ? JSON.stringify(fields).slice(0, 300) : ""}`);
const consoleLogger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };

interface Emitted {
  readonly eventId: string;
  readonly traceId: string;
  readonly seq: number;
}

function emitOne(
  producer: Producer,
  contexts: readonly TraceContext[],
  seq: number,
  emitted: Emitted[],
): number {
  const context = contexts[seq % contexts.length] as TraceContext;
  const eventId = newEventId();
  const started = performance.now();
  const result = producer.emitEvent(
    { event_id: eventId, event_kind: "CUSTOM", name: "step", metadata: { seq: String(seq) } },
    context,
  );
  const elapsed = performance.now() - started;
  expect([EmitResult.Queued, EmitResult.Spooled]).to.include(result);
  emitted.push({ eventId, traceId: context.traceId, seq });
  return elapsed;
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every emitted record arrived once, and each trace's records arrived in emit order. */
export function expectExactlyOnceInOrder(emitted: readonly Emitted[], received: readonly Received[]): void {
  const ids = received.map((m) => m.decoded.record.event_id);
  expect(new Set(ids).size, "duplicates").to.equal(ids.length);
  expect(ids.length).to.equal(emitted.length);
  expect(new Set(ids)).to.deep.equal(new Set(emitted.map((e) => e.eventId)));
  const byTrace = new Map<string, Received[]>();
  for (const message of received) {
    expect(message.key).to.equal(message.decoded.record.trace_id);
    const list = byTrace.get(message.key) ?? [];
    list.push(message);
    byTrace.set(message.key, list);
  }
  for (const [traceId, messages] of byTrace) {
    expect(
      new Set(messages.map((m) => `${m.topic}/${m.partition}`)).size,
      `partitions of ${traceId}`,
    ).to.equal(1);
    const seqs = messages
      .sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)))
      .map((m) => Number(m.decoded.record.metadata.seq));
    const expected = emitted.filter((e) => e.traceId === traceId).map((e) => e.seq);
    expect(seqs, `order of trace ${traceId}`).to.deep.equal(expected);
  }
}

describe("broker outage", function () {
  this.timeout(240_000);
  let fixture: TopicFixture;
  let spool: ReturnType<typeof tempSpoolDir>;

  before(async () => {
    fixture = await topicFixture();
    spool = tempSpoolDir();
  });

  after(async () => {
    const control = await localKafkaControl();
    control.start();
    await fixture.cleanup();
    spool.remove();
  });

  it("never blocks the caller, spools while the broker is down, then delivers every record once, in order per trace", async () => {
    const control = await localKafkaControl();
    const producer = createProducer({
      brokers: fixture.brokers,
      topics: fixture.topics,
      spool: { dir: spool.dir },
      connectionTimeoutMs: 1000,
      sendTimeoutMs: 5000,
      retryBackoffMs: 100,
      maxRetryBackoffMs: 1000,
      logger: process.env["PRODUCER_TEST_LOG"] ? consoleLogger : undefined,
    });
    const contexts = Array.from({ length: TRACES }, () => TraceContext.create());
    const emitted: Emitted[] = [];
    let seq = 0;
    try {
      for (; seq < 300; seq++) emitOne(producer, contexts, seq, emitted);
      await producer.flush({ timeoutMs: 30_000 });
      expect(producer.stats().sent).to.equal(300);

      control.kill();
      const outageTimes: number[] = [];
      const outageEnd = Date.now() + 4000;
      while (Date.now() < outageEnd) {
        for (let i = 0; i < 25; i++, seq++) outageTimes.push(emitOne(producer, contexts, seq, emitted));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await waitFor(() => producer.stats().state === ProducerState.Degraded, 30_000, "degraded state");
      await waitFor(() => producer.stats().queuedRecords === 0, 10_000, "queue moved to the spool");
      const during = producer.stats();
      expect(during.spooled).to.be.greaterThan(0);
      expect(during.spoolBytes).to.be.greaterThan(0);
      outageTimes.sort((a, b) => a - b);
      const p99 = outageTimes[Math.floor(outageTimes.length * 0.99)] as number;
      const max = outageTimes[outageTimes.length - 1] as number;
      console.log(
        `      ${outageTimes.length} emits during the outage: p99 ${(p99 * 1000).toFixed(1)} µs, max ${max.toFixed(2)} ms`,
      );
      expect(p99, "p99 emit time during the outage (ms)").to.be.lessThan(1);
      expect(max, "slowest emit during the outage (ms)").to.be.lessThan(100);

      control.start();
      for (let i = 0; i < 200; i++, seq++) emitOne(producer, contexts, seq, emitted);
      await producer.flush({ timeoutMs: 120_000 });
      const after = producer.stats();
      expect(after.sent).to.equal(emitted.length);
      expect(after.spoolBytes).to.equal(0);
      expect(after.state).to.equal(ProducerState.Connected);
    } finally {
      await producer.close();
    }
    const received = await fixture.consume(emitted.length, 60_000);
    expectExactlyOnceInOrder(emitted, received);
  });
});
