/**
 * Sink throughput and trace-lookup latency.
 *   npm run bench -w @tracehouse/clickhouse
 * Inserts 100k realistic rows per record table through every available sink (HTTP only when
 * CLICKHOUSE_URL is set), then looks one trace up among >1M spans and >1M events, with and without
 * the trace index. Last line: one JSON object with the figures.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ClickHouseTraceSchema, EmbeddedSink, HttpSink, RecordTable, TraceQueries } from "../src/index.js";
import type { Row, Sink } from "../src/index.js";
import { generateTraces, hex, uuidv7 } from "../test/support/records.js";
import type { TraceRows } from "../test/support/records.js";

const ROWS_PER_TABLE = 100_000;
const BATCH_ROWS = 10_000;
const BACKGROUND_SPANS = 1_200_000;
const BACKGROUND_EVENTS = 1_200_000;
const LOOKUPS = 15;
const DAY_US = 24 * 3600 * 1_000_000;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};
const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

/** Tops every table up to `count` rows by cloning rows under fresh trace, execution and event ids. */
function fillTo(rows: TraceRows, count: number): TraceRows {
  const filled = {} as TraceRows;
  for (const [table, list] of Object.entries(rows) as [keyof TraceRows, Row[]][]) {
    const out = list.slice(0, count);
    for (let copy = 1; out.length < count; copy++) {
      const traceIds = new Map<string, string>();
      for (const row of list) {
        if (out.length >= count) break;
        const traceId = String(row["trace_id"]);
        if (!traceIds.has(traceId)) traceIds.set(traceId, hex(16));
        const eventTime = Number(row["event_time"]) + copy * 7_000_000;
        out.push({
          ...row,
          trace_id: traceIds.get(traceId),
          event_time: eventTime,
          event_id: uuidv7(Math.floor(eventTime / 1000)),
          execution_id: row["execution_id"] === null ? null : `${String(row["execution_id"])}-${copy}`,
        });
      }
    }
    filled[table] = out;
  }
  return filled;
}

async function insertThroughput(
  sink: Sink,
  rows: TraceRows,
): Promise<{ perTable: Record<string, number>; total: number }> {
  const perTable: Record<string, number> = {};
  let totalRows = 0;
  let totalMs = 0;
  for (const [table, list] of Object.entries(rows) as [string, Row[]][]) {
    const started = performance.now();
    for (let offset = 0; offset < list.length; offset += BATCH_ROWS) {
      await sink.insert(table, list.slice(offset, offset + BATCH_ROWS), {
        dedupToken: `bench:${table}:${offset}`,
      });
    }
    const elapsedMs = performance.now() - started;
    perTable[table] = list.length / (elapsedMs / 1000);
    totalRows += list.length;
    totalMs += elapsedMs;
  }
  return { perTable, total: totalRows / (totalMs / 1000) };
}

async function timeIt(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function main(): Promise<void> {
  const benchStarted = performance.now();
  const nowUs = Date.now() * 1000;
  const generated = generateTraces({
    traces: 11_200,
    startUs: nowUs - 20 * DAY_US,
    traceSpacingUs: 60_000_000,
    seed: 3,
  });
  const rows = fillTo(generated, ROWS_PER_TABLE);
  const dataDir = mkdtempSync(path.join(tmpdir(), "tracehouse-bench-"));
  const database = `bench_${process.pid}`;
  const results: Record<string, unknown> = {};
  const lines: string[] = [];

  const embedded = new EmbeddedSink({ dataDir, database });
  try {
    const schema = new ClickHouseTraceSchema(embedded);
    await schema.createTables();
    const throughput = await insertThroughput(embedded, rows);
    results["embedded_rows_per_s"] = Math.round(throughput.total);
    lines.push("Insert throughput (100k rows per table, 10k-row batches, JSONEachRow, MVs included)");
    lines.push(`  ${"table".padEnd(22)} ${"embedded rows/s".padStart(16)}`);
    for (const [table, perSecond] of Object.entries(throughput.perTable)) {
      lines.push(`  ${table.padEnd(22)} ${Math.round(perSecond).toString().padStart(16)}`);
    }
    lines.push(`  ${"all tables".padEnd(22)} ${Math.round(throughput.total).toString().padStart(16)}`);

    const http =
      (process.env["CLICKHOUSE_URL"] ?? "") === "" ? null : new HttpSink({ database: `${database}_http` });
    if (http === null) {
      lines.push("  http: not run (CLICKHOUSE_URL is not set)");
      results["http_rows_per_s"] = null;
    } else {
      try {
        await new ClickHouseTraceSchema(http).createTables();
        const httpThroughput = await insertThroughput(http, rows);
        results["http_rows_per_s"] = Math.round(httpThroughput.total);
        lines.push(`  http, all tables: ${Math.round(httpThroughput.total)} rows/s`);
        await http.command(`DROP DATABASE IF EXISTS ${database}_http`);
      } finally {
        await http.close();
      }
    }

    // Background: spans and events spread over 80 days (three or four monthly partitions).
    const span = (count: number, table: string, select: string): Promise<void> =>
      embedded.command(`INSERT INTO ${database}.${table} ${select.replaceAll("{count}", String(count))}`);
    const fromUs = nowUs - 80 * DAY_US;
    const stepUs = Math.floor((79 * DAY_US) / (BACKGROUND_SPANS / 12));
    const backgroundStarted = performance.now();
    await span(
      BACKGROUND_SPANS,
      "spans",
      `(event_id, event_time, trace_id, span_id, parent_span_id, user_id, execution_id, agent_name, name, kind,
        start_time, end_time, status_code, attributes)
       SELECT toString(generateUUIDv7(number)), fromUnixTimestamp64Micro(toInt64(${fromUs} + intDiv(number, 12) * ${stepUs} + (number % 12) * 40000), 'UTC') AS t,
              lower(hex(cityHash64(intDiv(number, 12)))) || lower(hex(cityHash64(intDiv(number, 12), 7))),
              lower(hex(cityHash64(number))), if(number % 12 = 0, '', lower(hex(cityHash64(intDiv(number, 12) * 12)))),
              concat('user-', toString(number % 500)), concat('exec-', toString(intDiv(number, 4))),
              ['planner', 'researcher', 'coder', 'reviewer'][number % 4 + 1], ['llm gpt-4o', 'tool web_search', 'agent run'][number % 3 + 1],
              'INTERNAL', t, t + toIntervalMillisecond(number % 3000), if(number % 97 = 0, 'ERROR', 'OK'),
              map('agent.name', 'planner', 'llm.model', 'gpt-4o')
       FROM numbers({count})`,
    );
    await span(
      BACKGROUND_EVENTS,
      "agent_events",
      `(event_id, event_time, trace_id, span_id, user_id, execution_id, agent_name, event_kind, name, status, duration_ms, payload_bytes, attributes)
       SELECT toString(generateUUIDv7(number)), fromUnixTimestamp64Micro(toInt64(${fromUs} + intDiv(number, 12) * ${stepUs} + (number % 12) * 40000), 'UTC'),
              lower(hex(cityHash64(intDiv(number, 12)))) || lower(hex(cityHash64(intDiv(number, 12), 7))),
              lower(hex(cityHash64(number))), concat('user-', toString(number % 500)), concat('exec-', toString(intDiv(number, 4))),
              ['planner', 'researcher', 'coder', 'reviewer'][number % 4 + 1],
              ['LLM_CALL_START', 'LLM_FIRST_TOKEN', 'LLM_CALL_END', 'TOOL_CALL_START', 'TOOL_CALL_END'][number % 5 + 1],
              ['gpt-4o', 'web_search'][number % 2 + 1], 'ok', (number % 3000) / 3, number % 20000, map('llm.model', 'gpt-4o')
       FROM numbers({count})`,
    );
    const backgroundMs = performance.now() - backgroundStarted;

    const target = generateTraces({ traces: 1, startUs: nowUs - 40 * DAY_US, seed: 99 });
    for (const [table, list] of Object.entries(target)) await embedded.insert(table, list);
    const traceId = String(target.spans[0]?.["trace_id"]);
    const stats = await schema.getTableStats();
    const queries = new TraceQueries(embedded);

    const withIndex: number[] = [];
    const withoutIndex: number[] = [];
    const spansWith: number[] = [];
    const spansWithout: number[] = [];
    const [bounds] = await embedded.query<{ f: number; t: number }>(
      `SELECT toUnixTimestamp64Micro(min(start_time)) AS f, toUnixTimestamp64Micro(max(end_time)) AS t
       FROM ${database}.trace_index WHERE trace_id = {id:String}`,
      { id: traceId },
    );
    const spansQuery = (bounded: boolean): Promise<unknown[]> =>
      embedded.query(
        `SELECT * FROM ${database}.spans WHERE trace_id = {id:String}${
          bounded
            ? " AND event_time BETWEEN fromUnixTimestamp64Micro({f:Int64}, 'UTC') AND fromUnixTimestamp64Micro({t:Int64}, 'UTC')"
            : ""
        } ORDER BY event_time, event_id LIMIT 1 BY event_id`,
        { id: traceId, f: bounds?.f, t: bounds?.t },
      );
    const check = await queries.getTrace(traceId);
    if (check === null || check.summary.spanCount !== target.spans.length)
      throw new Error("lookup found the wrong trace");
    for (let i = 0; i < 2; i++) {
      await queries.getTrace(traceId);
      await queries.getTrace(traceId, { useIndex: false });
    }
    for (let i = 0; i < LOOKUPS; i++) {
      withIndex.push(await timeIt(() => queries.getTrace(traceId)));
      withoutIndex.push(await timeIt(() => queries.getTrace(traceId, { useIndex: false })));
      spansWith.push(await timeIt(() => spansQuery(true)));
      spansWithout.push(await timeIt(() => spansQuery(false)));
    }
    results["trace_lookup_ms"] = round(median(withIndex), 2);
    results["trace_lookup_ms_without_index"] = round(median(withoutIndex), 2);
    results["spans_lookup_ms"] = round(median(spansWith), 2);
    results["spans_lookup_ms_without_index"] = round(median(spansWithout), 2);
    results["spans_rows"] = stats[RecordTable.Spans]?.rows ?? 0;
    results["events_rows"] = stats[RecordTable.Events]?.rows ?? 0;

    lines.push("");
    lines.push(
      `Background: ${BACKGROUND_SPANS} spans + ${BACKGROUND_EVENTS} events over 80 days, generated in ${round(backgroundMs / 1000)} s`,
    );
    lines.push("Storage (active parts)");
    lines.push(
      `  ${"table".padEnd(22)} ${"rows".padStart(10)} ${"on disk".padStart(12)} ${"uncompressed".padStart(14)} ${"parts".padStart(6)}`,
    );
    for (const [table, stat] of Object.entries(stats)) {
      if (stat.rows === 0) continue;
      lines.push(
        `  ${table.padEnd(22)} ${String(stat.rows).padStart(10)} ${`${round(stat.bytesOnDisk / 1e6)} MB`.padStart(12)} ${`${round(stat.uncompressedBytes / 1e6)} MB`.padStart(14)} ${String(stat.parts).padStart(6)}`,
      );
    }
    lines.push("");
    lines.push(
      `Trace lookup, median of ${LOOKUPS} (one trace of ${target.spans.length} spans among ${results["spans_rows"]} spans, ${results["events_rows"]} events)`,
    );
    lines.push(`  getTrace with trace index     ${results["trace_lookup_ms"]} ms`);
    lines.push(`  getTrace without trace index  ${results["trace_lookup_ms_without_index"]} ms`);
    lines.push(`  spans only, bounded by index  ${results["spans_lookup_ms"]} ms`);
    lines.push(`  spans only, trace_id only     ${results["spans_lookup_ms_without_index"]} ms`);
    await embedded.command(`DROP DATABASE IF EXISTS ${database}`);
  } finally {
    await embedded.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  results["bench_seconds"] = round((performance.now() - benchStarted) / 1000);
  for (const line of lines) console.log(line);
  console.log(JSON.stringify(results));
}

await main();
