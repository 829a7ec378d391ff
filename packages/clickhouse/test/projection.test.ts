import { RECORD_TYPES, RecordType, decodeRecord, encodeRecord, recordFields } from "@tracehouse/schemas";
import { expect } from "chai";
import {
  ClickHouseTraceSchema,
  RowMappingError,
  SCHEMA_OBJECTS,
  TABLE_COLUMNS,
  TABLE_OF_RECORD_TYPE,
  eventTimeBounds,
  fromRowSelect,
  lacksIdentity,
  toRow,
} from "../src/index.js";
import type { Sink } from "../src/index.js";
import { embeddedTarget, uniqueDatabase } from "./support/engine.js";
import { generateTraces } from "./support/records.js";

const SAMPLES = generateTraces({ traces: 20, startUs: Date.UTC(2025, 0, 15) * 1000, seed: 7 });

/** A decoded record of `type` with every field set as a producer would, then `changes`. */
function decoded(type: RecordType, changes: Record<string, unknown> = {}) {
  const sample = SAMPLES[TABLE_OF_RECORD_TYPE[type]][0];
  if (sample === undefined) throw new Error(`no sample ${type} record`);
  return decodeRecord(encodeRecord(type, { ...sample, ...changes } as never));
}

describe("projection", () => {
  it("derives each table's columns from its record type's Avro fields, in schema order", () => {
    for (const type of RECORD_TYPES) {
      const table = TABLE_OF_RECORD_TYPE[type];
      expect(TABLE_COLUMNS[table], table).to.deep.equal(recordFields(type).map((field) => field.name));
      const created = SCHEMA_OBJECTS.find((object) => object.name === table);
      expect(created?.columns, table).to.deep.equal(TABLE_COLUMNS[table]);
    }
  });

  it("fills every column of every table from the record field of the same name", () => {
    for (const type of RECORD_TYPES) {
      const { table, row } = toRow(decoded(type));
      expect(table).to.equal(TABLE_OF_RECORD_TYPE[type]);
      expect(Object.keys(row).sort(), table).to.deep.equal([...TABLE_COLUMNS[table]].sort());
    }
  });

  it("normalises the decoded record in place instead of copying it", () => {
    const record = decoded(RecordType.Execution);
    expect(toRow(record).row).to.equal(record.record);
  });

  it("writes '' for null ids stored as empty strings and keeps other nulls", () => {
    const { row } = toRow(
      decoded(RecordType.Execution, { parent_span_id: null, agent_name: null, result_summary: null }),
    );
    expect(row.parent_span_id).to.equal("");
    expect(row.agent_name).to.equal("");
    expect(row.result_summary).to.equal(null);
  });

  it("keeps the record's own identity fields, an explicit null included, over the headers' baggage", () => {
    const context = { userId: "from-baggage", correlationId: "corr", threadId: "thread" };
    const record = decoded(RecordType.Event, {
      user_id: "from-record",
      correlation_id: null,
      thread_id: null,
    });
    expect(lacksIdentity(record)).to.equal(false);
    const { row } = toRow(record, context);
    expect(row).to.include({ user_id: "from-record", correlation_id: "", thread_id: "" });
  });

  it("accepts only event times the tables store and keep: the DateTime range, the TTL window", () => {
    const now = Date.UTC(2026, 0, 15);
    const noTtl = eventTimeBounds(null, now);
    const ttl90 = eventTimeBounds(90, now);
    const at =
      (micros: number, bounds = noTtl) =>
      () =>
        toRow(decoded(RecordType.Event, { event_time: micros }), undefined, bounds);
    for (const micros of [-1, Date.UTC(2150, 0, 1) * 1000, Date.UTC(2250, 0, 1) * 1000]) {
      expect(at(micros), String(micros)).to.throw(RowMappingError, /^event_time: .*cannot be kept/);
    }
    expect(at(Date.UTC(2106, 0, 1) * 1000, ttl90)).to.throw(RowMappingError, /event_time/);
    expect(at((now - 91 * 86_400_000) * 1000, ttl90)).to.throw(RowMappingError, /event_time/);
    expect(at((now - 89 * 86_400_000) * 1000, ttl90)()).to.have.nested.property("row.event_time");
    expect(at(0)().row.event_time).to.equal(0);
    expect(at(Date.UTC(2100, 0, 1) * 1000)().row.event_time).to.equal(Date.UTC(2100, 0, 1) * 1000);
    try {
      at(-1)();
      expect.fail("an event time before 1970 was accepted");
    } catch (error) {
      expect((error as RowMappingError).column).to.equal("event_time");
    }
  });

  it("refuses times outside DateTime64(6) instead of letting ClickHouse clamp them", () => {
    const before1900 = Date.UTC(1850, 0, 1) * 1000;
    expect(() => toRow(decoded(RecordType.Event, { event_time: before1900 }))).to.throw(
      RowMappingError,
      /event_time/,
    );
    const span = decoded(RecordType.Span, { events: [{ name: "early", time: before1900, attributes: {} }] });
    expect(() => toRow(span)).to.throw(RowMappingError, /events\.0\.time/);
    expect(new RowMappingError("x", "y").retriable).to.equal(false);
  });

  it("reads every column back under its field name, times as µs and '' as null", () => {
    for (const type of RECORD_TYPES) {
      const table = TABLE_OF_RECORD_TYPE[type];
      const aliases = [...fromRowSelect(table).matchAll(/ AS (\w+)(?:,|$)/g)].map((match) => match[1]);
      expect(aliases, table).to.deep.equal(TABLE_COLUMNS[table]);
    }
    expect(fromRowSelect(TABLE_OF_RECORD_TYPE[RecordType.Span])).to.include(
      "toUnixTimestamp64Micro(t.start_time) AS start_time",
    );
    expect(fromRowSelect(TABLE_OF_RECORD_TYPE[RecordType.Execution])).to.include(
      "nullIf(t.parent_execution_id, '') AS parent_execution_id",
    );
  });
});

describe("projection round trip (embedded engine)", () => {
  let sink: Sink;

  before(async () => {
    sink = embeddedTarget.makeSink(uniqueDatabase("projection"));
    await new ClickHouseTraceSchema(sink).createTables();
  });

  after(async () => {
    await sink.command(`DROP DATABASE IF EXISTS ${sink.database}`);
    await sink.close();
  });

  it("reads back through fromRowSelect every record written through toRow, nulls and times included", async () => {
    const now = Date.now() * 1000;
    for (const type of RECORD_TYPES) {
      const changes: Record<string, unknown> = { event_time: now, parent_span_id: null, user_id: null };
      if (type === RecordType.Span) Object.assign(changes, { start_time: now - 5, end_time: now });
      const expected = decoded(type, changes).record;
      const { table, row } = toRow(decoded(type, changes));
      await sink.insert(table, [row]);
      const [back] = await sink.query(
        `SELECT ${fromRowSelect(table)} FROM ${sink.database}.${table} AS t WHERE t.event_id = {id:String}`,
        { id: expected.event_id },
      );
      expect(back, table).to.deep.equal(expected);
    }
  });
});
