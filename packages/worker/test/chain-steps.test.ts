import type { Row } from "@tracehouse/clickhouse";
import { expect } from "chai";
import { PartitionLedger } from "../src/internal/PartitionLedger.js";
import type { PartitionOffsets } from "../src/internal/PartitionOffsets.js";
import type { TopicPartitions } from "../src/internal/source.js";
import { BackpressureStep } from "../src/internal/steps/backpressure.js";
import { BatchStep } from "../src/internal/steps/batch.js";
import type { TableBatch } from "../src/internal/steps/batch.js";
import { BoundedRange } from "../src/internal/steps/bounded-range.js";
import { CommitStep } from "../src/internal/steps/commit.js";
import { Occupancy } from "../src/internal/steps/step.js";
import type { CommitOffset, FetchedBatch } from "../src/internal/steps/step.js";
import { RetriesExhaustedError } from "../src/index.js";
import { TestContext } from "./helpers/steps.js";

const JAN = Date.UTC(2026, 0, 15) * 1000;
const FEB = Date.UTC(2026, 1, 15) * 1000;

/** Sealed batches, kept in order. */
class Sealed {
  readonly batches: TableBatch[] = [];
  submit(batch: TableBatch): void {
    this.batches.push(batch);
  }
}

function tracked(ledger: PartitionLedger, topic: string, partition: number, count: number): PartitionOffsets {
  const offsets = ledger.get(topic, partition);
  for (let offset = offsets.end < 0 ? 0 : offsets.end, n = 0; n < count; offset++, n++) offsets.add(offset);
  return offsets;
}

const limits = { maxBatchRows: 3, maxBatchBytes: 1000, flushIntervalMs: 50 };

describe("step: batch", () => {
  it("gathers rows per table and month, sealing a batch when it is full", () => {
    const sealed = new Sealed();
    const occupancy = new Occupancy();
    const batch = new BatchStep(limits, false, occupancy, sealed);
    const offsets = tracked(new PartitionLedger(), "t", 0, 5);
    const add = (table: "agent_events" | "spans", time: number, offset: number) =>
      batch.add(table, { event_time: time } as Row, { offsets, offset }, 10);
    add("agent_events", JAN, 0);
    add("agent_events", FEB, 1);
    add("spans", JAN, 2);
    add("agent_events", JAN + 1, 3);
    expect(sealed.batches).to.have.length(0);
    add("agent_events", JAN + 2, 4);
    expect(sealed.batches.map((b) => [b.table, b.sources.map((s) => s.offset)])).to.deep.equal([
      ["agent_events", [0, 3, 4]],
    ]);
    expect([occupancy.rows, occupancy.bytes]).to.deep.equal([5, 50]);
    expect(batch.sealLargest()).to.equal(true);
    expect(sealed.batches).to.have.length(2);
  });

  it("keeps a row's values, not the row: a batch holds its rows encoded, one line each", () => {
    const sealed = new Sealed();
    const batch = new BatchStep(limits, false, new Occupancy(), sealed);
    const offsets = tracked(new PartitionLedger(), "t", 0, 3);
    const rows = [0, 1, 2].map((n) => ({ event_id: `e${n}`, event_time: JAN + n, name: "before" }));
    rows.forEach((row, offset) => batch.add("agent_events", row, { offsets, offset }, 10));
    for (const row of rows) row.name = "after"; // the decoded record may be reused or dropped
    const [sealedBatch] = sealed.batches;
    expect(sealedBatch!.rows.rows().map((row) => [row["event_id"], row["name"]])).to.deep.equal([
      ["e0", "before"],
      ["e1", "before"],
      ["e2", "before"],
    ]);
    expect(sealedBatch!.rows.payload().toString("utf8").split("\n")).to.have.length(4);
  });

  it("while its topics lag, a batch waits to fill for up to four intervals instead of one", () => {
    const ledger = new PartitionLedger();
    const offsets = tracked(ledger, "t", 0, 1);
    const sealed = new Sealed();
    const batch = new BatchStep(limits, false, new Occupancy(), sealed, (open) =>
      ledger.lagging(open.topics),
    );
    batch.add("spans", { event_time: JAN } as Row, { offsets, offset: 0 }, 1);
    const opened = Date.now();
    offsets.lag = 500;
    batch.poll(opened + 2 * limits.flushIntervalMs);
    expect(sealed.batches, "lagging, two intervals old").to.have.length(0);
    batch.poll(opened + 4 * limits.flushIntervalMs + 5);
    expect(sealed.batches, "lagging, four intervals old").to.have.length(1);
    batch.add("spans", { event_time: JAN } as Row, { offsets, offset: 0 }, 1);
    offsets.lag = 0;
    batch.poll(Date.now() + limits.flushIntervalMs);
    expect(sealed.batches, "caught up, one interval old").to.have.length(2);
  });

  it("a batch no row joined for a quarter interval is sealed at half its interval, unless its topics lag", async () => {
    const ledger = new PartitionLedger();
    const offsets = tracked(ledger, "t", 0, 3);
    const sealed = new Sealed();
    const quarter = 50;
    const batch = new BatchStep(
      { ...limits, flushIntervalMs: 4 * quarter },
      false,
      new Occupancy(),
      sealed,
      (open) => ledger.lagging(open.topics),
    );
    batch.add("spans", { event_time: JAN } as Row, { offsets, offset: 0 }, 1);
    const opened = Date.now();
    batch.poll(opened + 2 * quarter - 5);
    expect(sealed.batches, "quiet, under half an interval old").to.have.length(0);
    offsets.lag = 500;
    batch.poll(opened + 2 * quarter + 5);
    expect(sealed.batches, "quiet, half an interval old, lagging").to.have.length(0);
    offsets.lag = 0;
    await new Promise((resolve) => setTimeout(resolve, 2 * quarter + 10));
    batch.add("spans", { event_time: JAN } as Row, { offsets, offset: 1 }, 1);
    batch.poll(Date.now() + 5);
    expect(sealed.batches, "half an interval old, a row just joined").to.have.length(0);
    batch.poll(Date.now() + quarter + 5);
    expect(
      sealed.batches.map((b) => b.rows.length),
      "half an interval old, quiet for a quarter, caught up",
    ).to.deep.equal([2]);
  });

  it("a batch whose insert could not start yet waits to fill, is sealed once it can, and waits four intervals at most", () => {
    const offsets = tracked(new PartitionLedger(), "t", 0, 3);
    const sealed = new Sealed();
    let insertBusy = true;
    const batch = new BatchStep(limits, false, new Occupancy(), sealed, () => insertBusy);
    batch.add("spans", { event_time: JAN } as Row, { offsets, offset: 0 }, 1);
    const opened = Date.now();
    batch.poll(opened + 2 * limits.flushIntervalMs);
    expect(sealed.batches, "insert busy, two intervals old").to.have.length(0);
    batch.add("spans", { event_time: JAN } as Row, { offsets, offset: 1 }, 1);
    insertBusy = false;
    batch.poll(opened + 2 * limits.flushIntervalMs);
    expect(
      sealed.batches.map((b) => b.rows.length),
      "the slot is free: one batch of both rows",
    ).to.deep.equal([2]);
    insertBusy = true;
    batch.add("spans", { event_time: JAN } as Row, { offsets, offset: 2 }, 1);
    batch.poll(Date.now() + 4 * limits.flushIntervalMs + 5);
    expect(sealed.batches, "insert still busy, four intervals old").to.have.length(2);
  });

  it("seals by age, except for bounded ranges, whose batches are cut by size and range end only", async () => {
    const offsets = tracked(new PartitionLedger(), "t", 0, 2);
    const timed = new Sealed();
    const byTime = new BatchStep(limits, false, new Occupancy(), timed);
    const ranged = new Sealed();
    const perPartition = new BatchStep(limits, true, new Occupancy(), ranged);
    for (const step of [byTime, perPartition])
      step.add("spans", { event_time: JAN } as Row, { offsets, offset: 0 }, 1);
    const later = Date.now() + limits.flushIntervalMs;
    byTime.poll(later);
    perPartition.poll(later);
    expect([timed.batches.length, ranged.batches.length]).to.deep.equal([1, 0]);
    perPartition.sealPartition("t", 1);
    expect(ranged.batches).to.have.length(0);
    perPartition.sealPartition("t", 0);
    expect(ranged.batches).to.have.length(1);
    perPartition.add("spans", { event_time: JAN } as Row, { offsets, offset: 1 }, 1);
    await perPartition.join();
    expect([ranged.batches.length, perPartition.empty]).to.deep.equal([2, true]);
  });
});

describe("step: bounded range", () => {
  const batchOf = (partition: number, from: number, to: number): FetchedBatch => ({
    topic: "t",
    partition,
    messages: Array.from({ length: to - from }, (_, i) => ({ offset: String(from + i) }) as never),
    endOffset: to,
    highWatermark: 100,
  });

  it("cuts batches at the end offset, then holds the partition and seals its batches", async () => {
    const range = new BoundedRange([
      { topic: "t", partition: 0, from: 0, to: 5 },
      { topic: "t", partition: 1, from: 3, to: 3 },
    ]);
    const passed: FetchedBatch[] = [];
    const actions: string[] = [];
    range.bind(
      { submit: async (batch) => void passed.push(batch) },
      {
        hold: (topic, partition) => actions.push(`hold ${topic}/${partition}`),
        seal: (topic, partition) => actions.push(`seal ${topic}/${partition}`),
      },
    );
    expect(range.isHeld("t", 1), "an empty range is held from the start").to.equal(true);
    expect([range.startOf("t", 0), range.startOf("t", 1), range.startOf("u", 0)]).to.deep.equal([
      0,
      undefined,
      undefined,
    ]);
    await range.submit(batchOf(0, 0, 3));
    expect(actions).to.deep.equal([]);
    await range.submit(batchOf(0, 3, 8));
    expect(passed.map((b) => [b.messages.length, b.endOffset])).to.deep.equal([
      [3, 3],
      [2, 5],
    ]);
    expect(actions).to.deep.equal(["hold t/0", "seal t/0"]);
    await range.submit(batchOf(0, 8, 9));
    expect(passed, "nothing past the end").to.have.length(2);
  });

  it("is complete once every partition's end offset is committed", async () => {
    const range = new BoundedRange([
      { topic: "t", partition: 0, from: 0, to: 5 },
      { topic: "t", partition: 1, from: 2, to: 4 },
    ]);
    let done = false;
    void range.done.then(() => (done = true));
    const ledger = new PartitionLedger();
    tracked(ledger, "t", 0, 5).committedAt(3);
    expect(range.progress(ledger.all())).to.deep.equal({
      records: 3,
      total: 7,
      partitionsDone: 0,
      partitions: 2,
    });
    range.committed([{ topic: "t", partition: 0, offset: "5" }]);
    range.committed([{ topic: "t", partition: 1, offset: "3" }]);
    await Promise.resolve();
    expect([done, range.complete, range.startOf("t", 0)]).to.deep.equal([false, false, undefined]);
    range.committed([{ topic: "t", partition: 1, offset: "4" }]);
    await range.done;
    expect(range.progress([])).to.deep.include({ records: 7, partitionsDone: 2 });
  });
});

describe("step: commit", () => {
  const retry = { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 };

  it("commits what is done, one commit at a time, and again for what was done meanwhile", async () => {
    const context = new TestContext();
    const ledger = new PartitionLedger();
    const offsets = tracked(ledger, "t", 0, 4);
    const commits: CommitOffset[][] = [];
    let release!: () => void;
    const step = new CommitStep(context, ledger, retry, async (list) => {
      commits.push([...list]);
      if (commits.length === 1) await new Promise<void>((resolve) => (release = resolve));
    });
    offsets.markDone(0);
    step.submit();
    offsets.markDone(1);
    step.submit();
    offsets.markDone(2);
    step.submit();
    expect(commits).to.have.length(1);
    release();
    await step.join();
    expect(commits.map((list) => list[0]!.offset)).to.deep.equal(["1", "3"]);
    expect([offsets.committed, await context.metric("tracehouse_worker_commits_total")]).to.deep.equal([
      3, 2,
    ]);
  });

  it("retries a failed commit with the offsets reached by then, and stops the chain when the retries run out", async () => {
    const context = new TestContext();
    const ledger = new PartitionLedger();
    const offsets = tracked(ledger, "t", 0, 4);
    const seen: string[] = [];
    const step = new CommitStep(context, ledger, retry, async (list) => {
      seen.push(list[0]!.offset);
      offsets.markDone(seen.length);
      throw new Error("coordinator moved");
    });
    offsets.markDone(0);
    step.submit();
    while (context.failed === null) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(seen, "one attempt and two retries, each with the offsets reached").to.deep.equal(["1", "2", "3"]);
    expect(context.failed).to.be.instanceOf(RetriesExhaustedError);
    expect((context.failed as RetriesExhaustedError).operation).to.equal("commit");
    expect(await context.metric("tracehouse_worker_retries_total", 'operation="commit"')).to.equal(2);
  });
});

describe("step: backpressure", () => {
  function setup(maxBufferedBytes: number) {
    const context = new TestContext();
    const ledger = new PartitionLedger();
    const occupancy = new Occupancy();
    const sealed = new Sealed();
    const insert = {
      idle: true,
      backedUpTopics: (max: number) =>
        new Set(sealed.batches.length >= max ? sealed.batches.flatMap((b) => [...b.topics]) : []),
    };
    const batch = new BatchStep({ ...limits, maxBatchRows: 100 }, false, occupancy, sealed);
    const calls: string[] = [];
    const show = (list: readonly TopicPartitions[]) =>
      list.map(({ topic, partitions }) => `${topic}/${partitions.join(",")}`).join(" ");
    const step = new BackpressureStep(
      { maxBufferedBytes, maxPendingBatches: 2 },
      ledger,
      occupancy,
      batch,
      insert,
      {
        pause: (list) => calls.push(`pause ${show(list)}`),
        resume: (list) => calls.push(`resume ${show(list)}`),
      },
      context.metrics,
      context.logger,
    );
    return { ledger, occupancy, sealed, batch, step, calls };
  }

  it("pauses every partition at the byte limit, seals the largest open batch, and resumes below half of it", () => {
    const { ledger, occupancy, sealed, batch, step, calls } = setup(100);
    const a = tracked(ledger, "a", 0, 10);
    tracked(ledger, "b", 1, 1);
    for (let offset = 0; offset < 10; offset++)
      batch.add("spans", { event_time: JAN } as Row, { offsets: a, offset }, 10);
    step.submit();
    expect(calls).to.deep.equal(["pause a/0 b/1"]);
    expect([sealed.batches.length, step.pausedPartitions]).to.deep.equal([1, 2]);
    occupancy.bytes = 60;
    step.submit();
    expect(calls, "still above half").to.have.length(1);
    occupancy.bytes = 50;
    step.submit();
    expect(calls.slice(1)).to.deep.equal(["resume a/0 b/1"]);
  });

  it("pauses the topics feeding a key with too many batches waiting; nothing resumes once draining", async () => {
    const { ledger, sealed, batch, step, calls } = setup(1_000_000);
    const a = tracked(ledger, "a", 0, 2);
    tracked(ledger, "b", 0, 1);
    batch.add("spans", { event_time: JAN } as Row, { offsets: a, offset: 0 }, 1);
    batch.add("spans", { event_time: FEB } as Row, { offsets: a, offset: 1 }, 1);
    await batch.join();
    step.submit();
    expect(calls).to.deep.equal(["pause a/0"]);
    sealed.batches.length = 0;
    await step.join();
    step.submit();
    expect(calls, "draining: stays paused").to.have.length(1);
  });
});
