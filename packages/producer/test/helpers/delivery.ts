import { expect } from "chai";
import type { Received } from "./kafka.js";

/** A record a test emitted: its id, trace and position in the emit order. */
export interface Emitted {
  readonly eventId: string;
  readonly traceId: string;
  readonly seq: number;
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

/** Polls `condition` until it holds; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
