import { expect } from "chai";
import { TraceContext } from "@tracehouse/context";
import { newEventId } from "@tracehouse/schemas";
import { localKafkaControl } from "@tracehouse/testkit";
import { createProducer, EmitResult, ProducerState } from "../src/index.js";
import type { Producer } from "../src/index.js";
import { expectExactlyOnceInOrder, waitFor } from "./helpers/delivery.js";
import type { Emitted } from "./helpers/delivery.js";
import { tempSpoolDir, topicFixture } from "./helpers/kafka.js";
import type { TopicFixture } from "./helpers/kafka.js";

const TRACES = 12;

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
