import type { Sink } from "../sink.js";
import { num, strOrNull } from "./sql.js";
import { SUMMARY_HOURS } from "./usage.js";

/** What execution_summary says of one trace: its root agent, agents, models and counts. */
export interface TraceDetail {
  readonly rootAgent: string | null;
  readonly agents: string[];
  readonly threadIds: string[];
  readonly models: string[];
  /** Executions with a lifecycle record. */
  readonly executionCount: number;
  readonly runningCount: number;
  readonly failed: number;
  readonly llmCalls: number;
  readonly eventCount: number;
  readonly errorCount: number;
  readonly spanCount: number;
}

/** The details of a trace with no row in execution_summary. */
export const EMPTY_DETAIL: TraceDetail = Object.freeze({
  rootAgent: null,
  agents: [],
  threadIds: [],
  models: [],
  executionCount: 0,
  runningCount: 0,
  failed: 0,
  llmCalls: 0,
  eventCount: 0,
  errorCount: 0,
  spanCount: 0,
});

const strings = (value: unknown): string[] =>
  Array.isArray(value)
    ? value
        .map(String)
        .filter((item) => item !== "")
        .sort()
    : [];

/**
 * The details of the traces `ids`, from the per-execution summary of the hours `range` spans (epoch
 * µs: every record of those traces lies within). trace_index holds only the traces' bounds, user and
 * error flag; their root and counts are read here.
 */
export async function traceDetails(
  sink: Sink,
  ids: readonly string[],
  range: { from_us: number; to_us: number },
): Promise<Map<string, TraceDetail>> {
  const rows = await sink.query<Record<string, unknown>>(
    `SELECT trace_id, argMinMerge(root).1 AS root_agent, sum(span_count) AS span_count,
            sum(event_count) AS event_count, sum(error_count) AS error_count,
            groupUniqArrayIf(agent_name, lifecycle != '') AS agents, groupUniqArrayIf(thread_id, lifecycle != '') AS threads,
            countIf(lifecycle != '') AS executions, countIf(lifecycle NOT IN ('', 'COMPLETED', 'FAILED')) AS running,
            countIf(lifecycle = 'FAILED') AS failed, sum(llm_calls) AS llm_calls, groupUniqArrayArray(models) AS models
     FROM (
       SELECT trace_id, execution_id, max(agent_name) AS agent_name, max(thread_id) AS thread_id,
              argMaxMerge(lifecycle) AS lifecycle, argMinMergeState(root) AS root,
              uniqExactMerge(spans) AS span_count, uniqExactMerge(events) AS event_count,
              uniqExactMerge(errors) AS error_count, uniqExactMerge(llm_calls) AS llm_calls,
              groupUniqArrayArray(models) AS models
       FROM ${sink.database}.execution_summary
       WHERE ${SUMMARY_HOURS} AND trace_id IN {ids:Array(String)}
       GROUP BY trace_id, execution_id
     )
     GROUP BY trace_id`,
    { ids, ...range },
  );
  return new Map(
    rows.map((row) => [
      String(row["trace_id"]),
      {
        rootAgent: strOrNull(row["root_agent"]),
        agents: strings(row["agents"]),
        threadIds: strings(row["threads"]),
        models: strings(row["models"]),
        executionCount: num(row["executions"]),
        runningCount: num(row["running"]),
        failed: num(row["failed"]),
        llmCalls: num(row["llm_calls"]),
        eventCount: num(row["event_count"]),
        errorCount: num(row["error_count"]),
        spanCount: num(row["span_count"]),
      },
    ]),
  );
}
