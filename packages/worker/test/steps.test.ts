import { TraceContext } from "@tracehouse/context";
import { RecordType } from "@tracehouse/schemas";
import { expect } from "chai";
import type { SourceMessage } from "../src/internal/source.js";
import { PartitionOffsets } from "../src/internal/PartitionOffsets.js";
import { batchKey, monthOf } from "../src/internal/steps/batch-key.js";
import { DeadLetterRatioPolicy } from "../src/internal/steps/dead-letter-policy.js";
import { BatchStep } from "../src/internal/steps/batch.js";
import type { TableBatch } from "../src/internal/steps/batch.js";
import { Decoder } from "../src/internal/steps/decode.js";
import { Occupancy } from "../src/internal/steps/step.js";
import { Projector } from "../src/internal/steps/project.js";
import { DeadLetterLimitError } from "../src/index.js";
import { messageOf, sampleRecord } from "./helpers/records.js";

function eventMessage(
  changes: Record<string, unknown> = {},
  context = TraceContext.create().child(),
): SourceMessage {
  const record = { ...sampleRecord(RecordType.Event, context, 1), ...changes };
  const message = messageOf({ type: RecordType.Event, record: record as never, context });
  return { key: null, value: message.value as Buffer, headers: message.headers ?? {}, timestamp: "0" };
}

describe("step: decode", () => {
  const decoder = new Decoder();

  it("decodes a record", () => {
    const decoding = decoder.decode(eventMessage({ name: "tool-x" }));
    expect(decoding.ok && decoding.record.type).to.equal(RecordType.Event);
  });

  it("says why bytes are not a record, without throwing", () => {
    expect(decoder.decode({ key: null, value: Buffer.from("nope"), timestamp: "0" })).to.deep.include({
      ok: false,
      reason: "bad_marker",
    });
    expect(decoder.decode({ key: null, value: null, timestamp: "0" })).to.deep.include({
      ok: false,
      reason: "empty",
    });
  });

  it("looks an unknown fingerprint up only when it has a schemas topic", async () => {
    const message = eventMessage();
    const value = Buffer.from(message.value!);
    value[2] = value[2]! ^ 0xff; // another fingerprint
    const decoding = decoder.decode({ ...message, value });
    expect(decoding).to.deep.include({ ok: false, reason: "unknown_fingerprint" });
    expect(decoder.canResolve(decoding)).to.equal(false);
    expect(await decoder.resolve({ ...message, value }, decoding)).to.equal(decoding);
  });
});

describe("step: project", () => {
  const projector = new Projector();
  const project = (message: SourceMessage) => {
    const decoding = new Decoder().decode(message);
    if (!decoding.ok) throw new Error(decoding.error);
    return projector.project(decoding.record, message.headers);
  };

  it("turns a record into its table's row", () => {
    const projection = project(eventMessage({ name: "tool-x" }));
    expect(projection.ok).to.equal(true);
    if (projection.ok) expect(projection.mapped).to.deep.include({ table: "agent_events" });
    if (projection.ok) expect(projection.mapped.row.name).to.equal("tool-x");
  });

  it("says which field the table cannot store, without throwing", () => {
    expect(project(eventMessage({ event_time: -1 }))).to.deep.include({
      ok: false,
      reason: "invalid_row",
      field: "event_time",
    });
  });

  it("keeps an explicit null identity although the headers' baggage carries one", () => {
    const context = TraceContext.create({ userId: "from-baggage" }).child();
    const projection = project(eventMessage({ user_id: null }, context));
    expect(projection.ok && projection.mapped.row.user_id).to.equal("");
  });

  it("bounds event times by the TTL window it was prepared with", () => {
    const now = Date.UTC(2026, 0, 1);
    const bounds = projector.boundsOf("agent_events", now);
    expect(bounds.minMicros).to.equal(0);
    expect(bounds.maxMicros).to.equal(4_294_967_295 * 1_000_000);
  });

  it("hands rows of selected tables on and marks the others done (skipped)", () => {
    const added: TableBatch[] = [];
    const batch = new BatchStep(
      { maxBatchRows: 1, maxBatchBytes: 100, flushIntervalMs: 10 },
      false,
      new Occupancy(),
      {
        submit: (sealed) => void added.push(sealed),
      },
    );
    const selective = new Projector(new Set(["spans"]), batch);
    const offsets = new PartitionOffsets("t", 0);
    offsets.add(0);
    const message = eventMessage();
    const decoding = new Decoder().decode(message);
    if (!decoding.ok) throw new Error(decoding.error);
    expect(
      selective.submit(decoding.record, message.headers, { offsets, offset: 0 }, 10, Date.now()),
    ).to.equal(null);
    expect([added, selective.skipped, offsets.committable()]).to.deep.equal([[], 1, 1]);
    const span = messageOf({
      type: RecordType.Span,
      record: sampleRecord(RecordType.Span, TraceContext.create(), 1) as never,
      context: TraceContext.create(),
    });
    const spanDecoding = new Decoder().decode({ key: null, value: span.value as Buffer, timestamp: "0" });
    if (!spanDecoding.ok) throw new Error(spanDecoding.error);
    offsets.add(1);
    selective.submit(spanDecoding.record, {}, { offsets, offset: 1 }, 10, Date.now());
    expect(added.map((sealed) => sealed.table)).to.deep.equal(["spans"]);
  });
});

describe("step: dead-letter ratio policy", () => {
  it("admits dead letters up to the ratio of a partition's window; a refused batch is not counted", () => {
    const offsets = new PartitionOffsets("t", 0);
    for (let offset = 0; offset < 100; offset++) offsets.add(offset);
    const policy = new DeadLetterRatioPolicy(100, 0.05);
    const at = (...list: number[]) => list.map((offset) => ({ offsets, offset }));
    policy.admit(at(1, 2, 3));
    policy.admit(at(10, 11));
    expect(() => policy.admit(at(20))).to.throw(DeadLetterLimitError, /6 dead letters among the last 100/);
    // The refused letter was not counted: 5 are, so one more is refused again.
    expect(() => policy.admit(at(21))).to.throw(DeadLetterLimitError);
    policy.forget("t", 0);
    policy.admit(at(30, 31, 32, 33, 34));
  });
});

describe("step: batch keys", () => {
  it("puts rows of different months, tables or (for replay) Kafka partitions in different batches", () => {
    const jan = Date.UTC(2026, 0, 31, 23, 59, 59) * 1000;
    const feb = Date.UTC(2026, 1, 1) * 1000;
    expect(monthOf(jan)).to.equal(202601);
    expect(monthOf(feb)).to.equal(202602);
    expect(batchKey("agent_events", jan, null)).to.not.equal(batchKey("agent_events", feb, null));
    expect(batchKey("agent_events", jan, null)).to.equal(batchKey("agent_events", jan + 1, null));
    expect(batchKey("agent_events", jan, null)).to.not.equal(batchKey("spans", jan, null));
    expect(batchKey("agent_events", jan, "t\u00000")).to.not.equal(batchKey("agent_events", jan, "t\u00001"));
  });
});
