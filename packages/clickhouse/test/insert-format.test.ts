import { expect } from "chai";
import {
  ClickHouseTraceSchema,
  EmbeddedSink,
  EncodedRows,
  InsertFormat,
  RecordTable,
  TABLE_COLUMNS,
  encodeInsert,
} from "../src/index.js";
import { columnPicker } from "../src/internal/json-each-row.js";
import { testDataDir, uniqueDatabase } from "./support/engine.js";

const MICROS = Date.UTC(2025, 0, 15, 12) * 1000;

function spanRow(index: number, changes: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_id: `0194700a-0000-7000-8000-${String(index).padStart(12, "0")}`,
    event_time: MICROS + index,
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
    span_id: `00f067aa0ba902b${index}`,
    parent_span_id: "",
    correlation_id: "",
    user_id: 'user "quoted" \\ ünïcode',
    thread_id: "",
    execution_id: "exec",
    agent_name: "agent",
    metadata: { run: String(index) },
    name: "chat",
    kind: "CLIENT",
    start_time: MICROS + index,
    end_time: MICROS + index + 250,
    status_code: "OK",
    status_message: null,
    attributes: { "gen_ai.request.model": "m", newline: "a\nb" },
    events: [{ name: "retry", time: MICROS + index + 100, attributes: { n: "1" } }],
    links: [],
    ...changes,
  };
}

describe("insert format", () => {
  it("sends a record table's rows positionally in its column order, other tables as JSONEachRow", () => {
    const rows = [spanRow(1), { ...spanRow(2), status_message: undefined, not_a_column: 1 }];
    const payload = encodeInsert("db.spans", rows);
    expect(payload.format).to.equal(InsertFormat.JsonCompactEachRow);
    expect(payload.columns).to.deep.equal(TABLE_COLUMNS.spans);
    const sent = JSON.parse(`[${payload.bytes.toString("utf8")}]`) as unknown[][];
    expect(sent).to.have.length(2);
    expect(sent[0]).to.have.length(TABLE_COLUMNS.spans.length);
    expect(sent[0]![TABLE_COLUMNS.spans.indexOf("user_id")]).to.equal('user "quoted" \\ ünïcode');
    // A missing value is sent as null (the column's default); a key that is not a column is not sent.
    expect(sent[1]![TABLE_COLUMNS.spans.indexOf("status_message")]).to.equal(null);
    expect(payload.bytes.toString("utf8")).not.to.include("not_a_column");
    expect(encodeInsert("db.spans_all", rows).columns).to.deep.equal(TABLE_COLUMNS.spans);
    const other = encodeInsert("db.items", [{ id: "a" }]);
    expect([other.format, other.columns]).to.deep.equal([InsertFormat.JsonEachRow, undefined]);
    expect(other.bytes.toString("utf8")).to.equal('{"id":"a"}\n');
  });

  it("takes a row's values by column name, whatever the name holds, a missing one as null", () => {
    const columns = ["plain", 'quote"d', "back\\slash", "new\nline", "]; throw 1; ["];
    const pick = columnPicker(columns);
    const row = { plain: 1, 'quote"d': "q", "back\\slash": false, "]; throw 1; [": 0, extra: "x" };
    expect(pick(row)).to.deep.equal([1, "q", false, null, 0]);
    expect(columnPicker(columns)).to.equal(pick);
    // Rows of other shapes read the same way.
    expect(pick({ "new\nline": "n" })).to.deep.equal([null, null, null, "n", null]);
  });

  it("stores a record table's rows as JSONEachRow would: nulls, defaults, maps, nested events, escapes", async () => {
    const database = uniqueDatabase("format");
    const sink = new EmbeddedSink({ dataDir: testDataDir(), database, maxRetries: 0 });
    try {
      await new ClickHouseTraceSchema(sink, { ttlDays: null }).createTables();
      await sink.insert(RecordTable.Spans, [spanRow(1), { ...spanRow(2), parent_span_id: undefined }]);
      const stored = await sink.query<Record<string, unknown>>(
        `SELECT span_id, parent_span_id, user_id, status_message, attributes, events,
                toUnixTimestamp64Micro(event_time) AS event_us
         FROM ${database}.spans ORDER BY span_id`,
      );
      expect(stored).to.deep.equal([
        {
          span_id: "00f067aa0ba902b1",
          parent_span_id: "",
          user_id: 'user "quoted" \\ ünïcode',
          status_message: null,
          attributes: { "gen_ai.request.model": "m", newline: "a\nb" },
          events: [{ name: "retry", time: "2025-01-15 12:00:00.000101", attributes: { n: "1" } }],
          event_us: MICROS + 1,
        },
        {
          span_id: "00f067aa0ba902b2",
          parent_span_id: "",
          user_id: 'user "quoted" \\ ünïcode',
          status_message: null,
          attributes: { "gen_ai.request.model": "m", newline: "a\nb" },
          events: [{ name: "retry", time: "2025-01-15 12:00:00.000102", attributes: { n: "1" } }],
          event_us: MICROS + 2,
        },
      ]);
    } finally {
      await sink.command(`DROP DATABASE IF EXISTS ${database}`);
      await sink.close();
    }
  });

  it("EncodedRows: rows encoded as they are added store what the same rows store; any slice is an insert of its own", async () => {
    const long = "ü".repeat(40_000); // past the first buffer: it grows
    const rows = [
      spanRow(1),
      { ...spanRow(2), parent_span_id: undefined, not_a_column: 1 },
      spanRow(3, { user_id: long }),
    ];
    const encoded = new EncodedRows(RecordTable.Spans);
    const lineBytes = rows.map((row) => encoded.add(row));
    expect([encoded.length, encoded.bytes]).to.deep.equal([3, encoded.payload().length]);
    expect(lineBytes.reduce((sum, bytes) => sum + bytes, 0)).to.equal(encoded.bytes);
    expect(encoded.row(1)).to.deep.include({ span_id: "00f067aa0ba902b2", parent_span_id: null });
    expect(encoded.row(1)).not.to.have.property("not_a_column");
    expect(encoded.slice(2).row(0)["user_id"]).to.equal(long);
    expect(() => encoded.slice(1).add(spanRow(4))).to.throw(/read-only/);
    expect(() => encodeInsert("db.agent_events", encoded)).to.throw(
      /spans cannot be inserted into db.agent_events/,
    );

    const stored = async (insert: (sink: EmbeddedSink) => Promise<void>): Promise<unknown[]> => {
      const database = uniqueDatabase("encoded");
      const sink = new EmbeddedSink({ dataDir: testDataDir(), database, maxRetries: 0 });
      try {
        await new ClickHouseTraceSchema(sink, { ttlDays: null }).createTables();
        await insert(sink);
        return await sink.query(`SELECT * FROM ${database}.spans ORDER BY span_id`);
      } finally {
        await sink.command(`DROP DATABASE IF EXISTS ${database}`);
        await sink.close();
      }
    };
    const asRows = await stored(async (sink) => {
      await sink.insert(RecordTable.Spans, rows);
    });
    const asSlices = await stored(async (sink) => {
      await sink.insert(RecordTable.Spans, encoded.slice(1));
      await sink.insert(RecordTable.Spans, encoded.slice(0, 1));
    });
    expect(asRows).to.have.length(3);
    expect(asSlices).to.deep.equal(asRows);
  });

  it("runs calls on the least busy of its sessions: a quick query need not wait for a slow one", async () => {
    const finished = async (sessions: number): Promise<string[]> => {
      const sink = new EmbeddedSink({ dataDir: testDataDir(), database: "default", sessions });
      const order: string[] = [];
      try {
        const slow = sink.query("SELECT sleep(1) AS s").then(() => order.push("slow"));
        const quick = sink.query("SELECT 1 AS one").then(() => order.push("quick"));
        await Promise.all([slow, quick]);
      } finally {
        await sink.close();
      }
      return order;
    };
    expect(await finished(1)).to.deep.equal(["slow", "quick"]);
    expect(await finished(2)).to.deep.equal(["quick", "slow"]);
  });
});
