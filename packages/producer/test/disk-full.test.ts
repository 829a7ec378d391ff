import { expect } from "chai";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { TraceContext } from "@tracehouse/context";
import { newEventId } from "@tracehouse/schemas";
import { createProducer, DropReason } from "../src/index.js";
import type { Producer, ProducerStats } from "../src/index.js";
import { waitFor } from "./helpers/delivery.js";
import { tempSpoolDir, topicFixture } from "./helpers/kafka.js";
import type { TopicFixture } from "./helpers/kafka.js";

const TMPFS_BYTES = 512 * 1024;

const MAX_BATCH = 100;

/** Every accepted record has been written to the spool or dropped, but the batch being retried in memory. */
function settled(stats: ProducerStats): boolean {
  const dropped = stats.dropped[DropReason.SpoolError] + stats.dropped[DropReason.SpoolFull];
  return stats.queuedRecords === 0 && stats.accepted - stats.spooled - dropped <= MAX_BATCH;
}

function afterDrops(stats: ProducerStats): number {
  let total = 0;
  for (const [reason, count] of Object.entries(stats.dropped))
    if (reason !== DropReason.Sampling) total += count;
  return total;
}

describe("a full disk under the spool", function () {
  this.timeout(180_000);
  let mount: ReturnType<typeof tempSpoolDir>;
  let fixture: TopicFixture;
  let producer: Producer | undefined;

  before(async () => {
    mount = tempSpoolDir();
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${TMPFS_BYTES}`, "tracehouse-test", mount.dir]);
    fixture = await topicFixture(1);
  });

  after(async () => {
    await producer?.close({ timeoutMs: 2000 });
    await fixture.cleanup();
    execFileSync("umount", [mount.dir]);
    mount.remove();
  });

  it("keeps the counts exact: every record is sent or counted dropped, never both, never neither", async () => {
    const spoolDir = path.join(mount.dir, "spool");
    const filler = path.join(mount.dir, "filler");
    // leave about 120 KiB: the spool runs out of space part-way through a write
    fs.writeFileSync(filler, Buffer.alloc(TMPFS_BYTES - 120 * 1024));
    const offline = createProducer({
      brokers: ["127.0.0.1:1"],
      topics: fixture.topics,
      spool: { dir: spoolDir, fsync: "always", segmentBytes: 48 * 1024 },
      maxRecordBytes: 8192,
      maxBatchRecords: MAX_BATCH,
      connectionTimeoutMs: 200,
      retryBackoffMs: 50,
      maxRetryBackoffMs: 200,
      closeTimeoutMs: 1000,
    });
    const contexts = Array.from({ length: 4 }, () => TraceContext.create());
    const emitted = new Set<string>();
    const emit = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) {
        const eventId = newEventId();
        offline.emitEvent(
          { event_id: eventId, event_kind: "CUSTOM", name: "disk-full", metadata: { i: String(i) } },
          contexts[i % contexts.length],
        );
        emitted.add(eventId);
        if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await waitFor(() => settled(offline.stats()), 30_000, "the spool writer to settle");
    };
    await emit(1500);
    expect(offline.stats().dropped[DropReason.SpoolError], "records dropped on ENOSPC").to.be.greaterThan(0);
    fs.rmSync(filler);
    await emit(600);
    await offline.close();
    const first = offline.stats();
    expect(first.accepted).to.equal(emitted.size);
    expect(first.sent).to.equal(0);
    // every accepted record is in the spool or counted dropped, once
    expect(first.spooled + afterDrops(first), JSON.stringify(first)).to.equal(emitted.size);

    producer = createProducer({ brokers: fixture.brokers, topics: fixture.topics, spool: { dir: spoolDir } });
    const recovering = producer;
    await waitFor(
      () => recovering.stats().spoolBytes === 0 && recovering.stats().recovered > 0,
      60_000,
      "recovery",
    );
    const second = recovering.stats();
    expect(second.dropped[DropReason.Corrupt], "records counted spooled but unreadable").to.equal(0);
    expect(second.recovered).to.equal(first.spooled);
    const received = await fixture.consume(first.spooled, 30_000);
    const ids = received.map((m) => m.decoded.record.event_id);
    expect(new Set(ids).size, "duplicates").to.equal(ids.length);
    expect(ids.every((id) => emitted.has(id))).to.equal(true);
    // sent + dropped = emitted: no record both sent and counted dropped, none neither
    expect(ids.length + afterDrops(first)).to.equal(emitted.size);
  });
});
