import {
  EMPTY_MEANS_NULL_COLUMNS,
  TABLE_COLUMNS,
  TABLE_OF_RECORD_TYPE,
  TIME_COLUMNS,
} from "@tracehouse/clickhouse";
import { RECORD_TYPES } from "@tracehouse/schemas";
import { useKafka, uniqueName } from "@tracehouse/testkit";
import { expect } from "chai";
import { createWorker } from "../src/index.js";
import { countRows, setupEnv, waitFor } from "./helpers/env.js";
import type { WorkerTestEnv } from "./helpers/env.js";
import { produceRecords, recordsOfEveryType } from "./helpers/records.js";
import type { TestRecord } from "./helpers/records.js";

function clickhouseTime(micros: number): string {
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(micros % 1_000_000).padStart(6, "0")}`;
}

/** What the table row of a record must hold, column by column. */
function expectedRow(item: TestRecord): Record<string, unknown> {
  const record = item.record as unknown as Record<string, unknown>;
  const table = TABLE_OF_RECORD_TYPE[item.type];
  const row: Record<string, unknown> = {};
  for (const column of TABLE_COLUMNS[table]) {
    let value = record[column];
    if (TIME_COLUMNS.has(column)) value = clickhouseTime(value as number);
    else if (value === null && EMPTY_MEANS_NULL_COLUMNS.has(column)) value = "";
    else if (column === "events") {
      value = (value as { name: string; time: number; attributes: unknown }[]).map((event) => ({
        ...event,
        time: clickhouseTime(event.time),
      }));
    }
    row[column] = value;
  }
  return row;
}

describe("worker: projection into ClickHouse", function () {
  this.timeout(120_000);
  let env: WorkerTestEnv;
  let brokers: string[];

  before(async () => {
    brokers = [...(await useKafka()).brokers];
    env = await setupEnv({ partitions: 3 });
  });
  after(async () => env?.cleanup());

  it("writes every record into its table with the record's values and its headers' trace context", async () => {
    const perType = 30;
    const items = recordsOfEveryType(perType).map((item, index) =>
      index % 2 === 1
        ? // An explicit null identity is the record's own value: the baggage must not replace it.
          { ...item, record: { ...item.record, user_id: null, correlation_id: null } }
        : item,
    );
    await produceRecords(env.kafka, env.topics, items);
    const worker = createWorker({
      brokers,
      groupId: uniqueName("g"),
      topics: env.topicList,
      deadLetterTopic: env.dlq,
      sink: env.sink,
      flushIntervalMs: 200,
    });
    await worker.start();
    try {
      for (const type of RECORD_TYPES) {
        const table = TABLE_OF_RECORD_TYPE[type];
        await waitFor(async () => (await countRows(env.sink, table)) === perType, {
          what: `${perType} rows in ${table}`,
        });
      }
      for (const item of items) {
        const table = TABLE_OF_RECORD_TYPE[item.type];
        const rows = await env.sink.query<Record<string, unknown>>(
          `SELECT * FROM ${env.database}.${table} WHERE event_id = {id:String}`,
          { id: item.record.event_id },
        );
        expect(rows, `${table} ${item.record.event_id}`).to.have.length(1);
        const row = rows[0]!;
        const expected = expectedRow(item);
        for (const column of Object.keys(expected)) {
          expect(row[column], `${table}.${column}`).to.deep.equal(expected[column]);
        }
        expect(row.trace_id).to.equal(item.context.traceId);
        expect(row.span_id).to.equal(item.context.spanId);
        expect(row.parent_span_id).to.equal(item.context.parentSpanId);
        expect(row.user_id).to.equal(item.record.user_id ?? "");
        expect(row.correlation_id).to.equal(item.record.correlation_id ?? "");
      }
    } finally {
      await worker.stop();
    }
    expect(worker.status().state).to.equal("stopped");
  });
});
