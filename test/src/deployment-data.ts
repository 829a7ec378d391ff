import { randomBytes } from "node:crypto";
import { ClickHouseTraceSchema, createSink, toRow } from "@tracehouse/clickhouse";
import type { Row, Sink } from "@tracehouse/clickhouse";
import { decodeRecord, encodeRecord, newEventId } from "@tracehouse/schemas";
import type { RecordInputOf, RecordType } from "@tracehouse/schemas";
import { useClickHouse } from "@tracehouse/testkit";

export const traceId = (): string => randomBytes(16).toString("hex");
export const spanId = (): string => randomBytes(8).toString("hex");

/** Envelope fields of a record about one execution of an agent. */
export function envelope(agentName: string, eventTimeMicros: number, executionId: string, trace = traceId()) {
  return {
    event_id: newEventId(),
    event_time: eventTimeMicros,
    trace_id: trace,
    span_id: spanId(),
    execution_id: executionId,
    agent_name: agentName,
  };
}

/** Rows by table, made the way the worker makes them: encoded, decoded and projected by the worker's mapping. */
export class RowBatch {
  readonly #rows = new Map<string, Row[]>();

  add<T extends RecordType>(type: T, record: RecordInputOf<T>): RecordInputOf<T> {
    const { table, row } = toRow(decodeRecord(encodeRecord(type, record)));
    const rows = this.#rows.get(table) ?? [];
    rows.push(row);
    this.#rows.set(table, rows);
    return record;
  }

  async insertInto(sink: Sink): Promise<void> {
    for (const [table, rows] of this.#rows) await sink.insert(table, rows);
    this.#rows.clear();
  }
}

/** A sink on the test's ClickHouse (a server from the environment, else the embedded engine) with the tables created. */
export async function testSink(database: string): Promise<Sink> {
  const service = await useClickHouse();
  const sink = createSink(
    service.url === undefined
      ? { dataDir: service.dataDir, database }
      : { url: service.url, username: service.username, password: service.password, database },
  );
  await new ClickHouseTraceSchema(sink).createTables();
  return sink;
}
