import type { PriceTable } from "../cost.js";
import type { Sink } from "../sink.js";
import { RecordTable, fromRowSelect } from "../projection.js";
import { timeParam } from "./sql.js";
import { buildTree } from "./trace-tree.js";
import type { ExecutionStateRow, GetTraceOptions, StoredRecord, TraceTree } from "./trace-tree.js";
import { costByKey, EMPTY_COST, mergeByModel, summariseCost, usageOfRecords } from "./usage.js";

/**
 * The execution tree of one trace with its events, metrics, errors, spans and cost; null if unknown.
 * Its time range from trace_index bounds the record tables' reads; the cost comes from the metrics
 * and events read (usageOfRecords), not from another statement.
 */
export async function getTrace(
  sink: Sink,
  prices: PriceTable,
  traceId: string,
  options: GetTraceOptions = {},
): Promise<TraceTree | null> {
  const db = sink.database;
  const useIndex = options.useIndex ?? true;
  const params: Record<string, unknown> = { trace_id: traceId };
  let bounds = "";
  if (useIndex) {
    const [range] = await sink.query<{ from_us: number; to_us: number }>(
      `SELECT toUnixTimestamp64Micro(min(start_time)) AS from_us, toUnixTimestamp64Micro(max(end_time)) AS to_us
       FROM ${db}.trace_index WHERE trace_id = {trace_id:String} GROUP BY trace_id`,
      params,
    );
    if (range === undefined) return null;
    params["from_us"] = range.from_us;
    params["to_us"] = range.to_us;
    bounds = ` AND t.event_time BETWEEN ${timeParam("from_us")} AND ${timeParam("to_us")}`;
  }
  const records = (table: RecordTable): Promise<StoredRecord[]> =>
    sink.query<StoredRecord>(
      `SELECT ${fromRowSelect(table)} FROM ${db}.${table} AS t
       WHERE t.trace_id = {trace_id:String}${bounds}
       ORDER BY t.event_time, t.event_id LIMIT 1 BY t.event_id`,
      params,
    );
  const [executions, correlations, events, metrics, errors, spans] = await Promise.all([
    sink.query<ExecutionStateRow>(
      `SELECT execution_id, max(agent_name) AS agent_name, max(parent_execution_id) AS parent_execution_id,
              argMaxMerge(s.lifecycle) AS lifecycle, argMaxMerge(s.status) AS status,
              toUnixTimestamp64Micro(min(first_seen)) AS started_at, toUnixTimestamp64Micro(max(s.ended_at)) AS ended_at,
              argMaxMerge(s.duration_ms) AS duration_ms, max(s.user_id) AS user_id, max(s.thread_id) AS thread_id,
              argMinMerge(s.span_id) AS span_id, argMinMerge(s.input_summary) AS input_summary,
              argMaxMerge(s.result_summary) AS result_summary, argMaxMerge(s.error_message) AS error_message
       FROM ${db}.executions_state AS s WHERE s.trace_id = {trace_id:String} GROUP BY execution_id`,
      { trace_id: traceId },
    ),
    records(RecordTable.Correlations),
    records(RecordTable.Events),
    records(RecordTable.Metrics),
    records(RecordTable.Errors),
    records(RecordTable.Spans),
  ]);
  if (
    executions.length +
      correlations.length +
      events.length +
      metrics.length +
      errors.length +
      spans.length ===
    0
  ) {
    return null;
  }
  const usage = usageOfRecords(prices, { metrics, events });
  return buildTree(
    traceId,
    executions,
    correlations,
    { events, metrics, errors, spans },
    {
      trace: usage.length === 0 ? EMPTY_COST : summariseCost(mergeByModel(usage.map((row) => row.usage))),
      byExecution: costByKey(usage),
    },
  );
}
