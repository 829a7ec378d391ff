import { ConfigError } from "@tracehouse/schemas";
import type { PriceTable } from "../cost.js";
import type { Sink } from "../sink.js";
import { limitParam, num, rangeParams, strOrNull, timeParam } from "./sql.js";
import type { TimeRange } from "./sql.js";
import type { TraceSummary } from "./trace-tree.js";
import { EMPTY_DETAIL, traceDetails } from "./trace-details.js";
import type { TraceDetail } from "./trace-details.js";
import { costByKey, EMPTY_COST, usageBy } from "./usage.js";
import type { CostSummary } from "./usage.js";

export interface FindTracesOptions extends TimeRange {
  readonly userId?: string;
  readonly onlyErrors?: boolean;
  /** Default: 50. */
  readonly limit?: number;
}

/** A trace's state: some execution still running, some execution failed, or every one completed. */
export const TraceStatus = { Running: "running", Failed: "failed", Completed: "completed" } as const;
export type TraceStatus = (typeof TraceStatus)[keyof typeof TraceStatus];

export const TraceSort = { Start: "start", Duration: "duration" } as const;
export type TraceSort = (typeof TraceSort)[keyof typeof TraceSort];

/** Filters of the trace list; every one is optional and they combine with AND. */
export interface TraceListOptions extends TimeRange {
  /** Some execution of the trace is this agent's. */
  readonly agent?: string;
  readonly userId?: string;
  readonly threadId?: string;
  readonly status?: TraceStatus;
  /** Errors (not warnings), failed executions or error spans. */
  readonly hasError?: boolean;
  readonly minDurationMs?: number;
  /** Some LLM call of the trace used this model. */
  readonly model?: string;
  /** Case-insensitive text in an execution's input, result or error message. */
  readonly text?: string;
  /** Default: start. */
  readonly sort?: TraceSort;
  /** Default: true (newest or longest first). */
  readonly descending?: boolean;
  /** Default: 50, at most 500. */
  readonly limit?: number;
  /** Default: 0. */
  readonly offset?: number;
}

export interface TraceListItem {
  readonly traceId: string;
  readonly startTimeUs: number;
  readonly endTimeUs: number;
  readonly durationMs: number;
  readonly rootAgent: string | null;
  readonly userId: string | null;
  readonly status: TraceStatus;
  readonly hasError: boolean;
  readonly agents: readonly string[];
  readonly threadIds: readonly string[];
  readonly models: readonly string[];
  readonly executionCount: number;
  readonly runningCount: number;
  readonly llmCalls: number;
  readonly eventCount: number;
  readonly errorCount: number;
  readonly spanCount: number;
  readonly cost: CostSummary;
}

export interface TracePage {
  readonly traces: readonly TraceListItem[];
  /** More traces match after this page. */
  readonly hasMore: boolean;
}

const SINCE_FROM = `event_time >= ${timeParam("from_us")}`;

const RUNNING_TRACES = (db: string): string =>
  `SELECT trace_id FROM (
     SELECT trace_id, argMaxMerge(lifecycle) AS lifecycle FROM ${db}.executions_state
     WHERE first_seen >= ${timeParam("from_us")} GROUP BY trace_id, execution_id)
   WHERE lifecycle NOT IN ('COMPLETED', 'FAILED')`;
const FAILED_TRACES = (db: string): string =>
  `SELECT trace_id FROM ${db}.agent_executions WHERE lifecycle = 'FAILED' AND ${SINCE_FROM}`;

/** Conditions on trace_index groups (HAVING) and on trace ids (WHERE … IN) for the list's filters. */
function filters(
  db: string,
  options: TraceListOptions,
  params: Record<string, unknown>,
): { where: string[]; having: string[] } {
  const having = [`start_time >= ${timeParam("from_us")}`, `start_time < ${timeParam("to_us")}`];
  if (options.userId !== undefined) {
    params["user_id"] = options.userId;
    having.push("user_id = {user_id:String}");
  }
  if (options.hasError !== undefined) having.push(`has_error = ${options.hasError ? 1 : 0}`);
  if (options.minDurationMs !== undefined) {
    if (!Number.isFinite(options.minDurationMs) || options.minDurationMs < 0)
      throw new ConfigError("minDurationMs must be a non-negative number");
    params["min_duration_us"] = Math.round(options.minDurationMs * 1000);
    having.push(
      "toUnixTimestamp64Micro(end_time) - toUnixTimestamp64Micro(start_time) >= {min_duration_us:Int64}",
    );
  }
  if (options.agent !== undefined) {
    params["agent"] = options.agent;
    having.push(
      `trace_id IN (SELECT trace_id FROM ${db}.agent_executions WHERE agent_name = {agent:String} AND ${SINCE_FROM})`,
    );
  }
  if (options.threadId !== undefined) {
    params["thread_id"] = options.threadId;
    having.push(
      `trace_id IN (SELECT trace_id FROM ${db}.agent_executions WHERE thread_id = {thread_id:String} AND ${SINCE_FROM})`,
    );
  }
  if (options.model !== undefined) {
    params["model"] = options.model;
    having.push(
      `trace_id IN (SELECT trace_id FROM ${db}.agent_events WHERE event_kind = 'LLM_CALL_START' AND name = {model:String} AND ${SINCE_FROM})`,
    );
  }
  if (options.text !== undefined && options.text !== "") {
    params["text"] = options.text;
    having.push(
      `trace_id IN (SELECT trace_id FROM ${db}.agent_executions WHERE ${SINCE_FROM} AND (
         positionCaseInsensitiveUTF8(ifNull(input_summary, ''), {text:String}) > 0
         OR positionCaseInsensitiveUTF8(ifNull(result_summary, ''), {text:String}) > 0
         OR positionCaseInsensitiveUTF8(ifNull(error_message, ''), {text:String}) > 0))`,
    );
  }
  if (options.status === TraceStatus.Running) having.push(`trace_id IN (${RUNNING_TRACES(db)})`);
  else if (options.status === TraceStatus.Failed) having.push(`trace_id IN (${FAILED_TRACES(db)})`);
  else if (options.status === TraceStatus.Completed)
    having.push(`trace_id NOT IN (${RUNNING_TRACES(db)})`, `trace_id NOT IN (${FAILED_TRACES(db)})`);
  else if (options.status !== undefined) throw new ConfigError(`unknown status ${String(options.status)}`);
  return {
    where: having.filter((condition) => condition.startsWith("trace_id")),
    having: having.filter((condition) => !condition.startsWith("trace_id")),
  };
}

/** The hours a page of traces spans (epoch µs): every record of its traces lies within. */
const pageRange = (rows: readonly Record<string, unknown>[]): { from_us: number; to_us: number } => ({
  from_us: Math.min(...rows.map((row) => num(row["start_us"]))),
  to_us: Math.max(...rows.map((row) => num(row["end_us"]))),
});

/** A trace as both lists give it: its trace_index row (bounds, user, error flag) and its details. */
const summaryOf = (row: Record<string, unknown>, detail: TraceDetail): TraceSummary => ({
  traceId: String(row["trace_id"]),
  startTimeUs: num(row["start_us"]),
  endTimeUs: num(row["end_us"]),
  durationMs: (num(row["end_us"]) - num(row["start_us"])) / 1000,
  rootAgent: detail.rootAgent,
  userId: strOrNull(row["user_id"]),
  hasError: num(row["has_error"]) === 1,
  executionCount: detail.executionCount,
  spanCount: detail.spanCount,
  eventCount: detail.eventCount,
  errorCount: detail.errorCount,
});

/** One page of traces that started in the window, with their agents, LLM calls, tokens, cost and errors. */
export async function listTraces(
  sink: Sink,
  prices: PriceTable,
  options: TraceListOptions,
): Promise<TracePage> {
  const db = sink.database;
  const limit = limitParam(options.limit, 50, 500);
  const offset = options.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0) throw new ConfigError("offset must be a non-negative integer");
  const params: Record<string, unknown> = { ...rangeParams(options), limit: limit + 1, offset };
  const { where, having } = filters(db, options, params);
  const sort = options.sort ?? TraceSort.Start;
  if (sort !== TraceSort.Start && sort !== TraceSort.Duration)
    throw new ConfigError(`unknown sort ${String(sort)}`);
  const direction = options.descending === false ? "ASC" : "DESC";
  const orderBy = sort === TraceSort.Duration ? `end_us - start_us ${direction}` : `start_us ${direction}`;
  const page = await sink.query<Record<string, unknown>>(
    `SELECT trace_id, toUnixTimestamp64Micro(min(t.start_time)) AS start_us,
            toUnixTimestamp64Micro(max(t.end_time)) AS end_us, min(t.start_time) AS start_time,
            max(t.end_time) AS end_time, max(t.user_id) AS user_id, max(t.has_error) AS has_error
     FROM ${db}.trace_index AS t
     WHERE ${[`t.start_time < ${timeParam("to_us")}`, `t.end_time >= ${timeParam("from_us")}`, ...where].join(" AND ")}
     GROUP BY trace_id
     HAVING ${having.join(" AND ")}
     ORDER BY ${orderBy}, trace_id
     LIMIT {limit:UInt32} OFFSET {offset:UInt32}`,
    params,
  );
  const hasMore = page.length > limit;
  const rows = page.slice(0, limit);
  if (rows.length === 0) return { traces: [], hasMore: false };
  const ids = rows.map((row) => String(row["trace_id"]));
  const range = pageRange(rows);
  const [details, usage] = await Promise.all([
    traceDetails(sink, ids, range),
    usageBy(sink, prices, { group: "trace_id", traceIds: ids, ...range }),
  ]);
  const costs = costByKey(usage);
  return {
    hasMore,
    traces: rows.map((row) => {
      const id = String(row["trace_id"]);
      const detail = details.get(id) ?? EMPTY_DETAIL;
      return {
        ...summaryOf(row, detail),
        status:
          detail.runningCount > 0
            ? TraceStatus.Running
            : detail.failed > 0
              ? TraceStatus.Failed
              : TraceStatus.Completed,
        agents: detail.agents,
        threadIds: detail.threadIds,
        models: detail.models,
        runningCount: detail.runningCount,
        llmCalls: detail.llmCalls,
        cost: costs.get(id) ?? EMPTY_COST,
      };
    }),
  };
}

/** Traces that started in the window, newest first, from the trace index. */
export async function findTraces(sink: Sink, options: FindTracesOptions): Promise<TraceSummary[]> {
  const db = sink.database;
  const params: Record<string, unknown> = { ...rangeParams(options), limit: limitParam(options.limit, 50) };
  const having: string[] = [`start_time >= ${timeParam("from_us")}`, `start_time < ${timeParam("to_us")}`];
  if (options.userId !== undefined) {
    params["user_id"] = options.userId;
    having.push("user_id = {user_id:String}");
  }
  if (options.onlyErrors === true) having.push("has_error = 1");
  const rows = await sink.query<Record<string, unknown>>(
    `SELECT trace_id, toUnixTimestamp64Micro(min(t.start_time)) AS start_us,
            toUnixTimestamp64Micro(max(t.end_time)) AS end_us, min(t.start_time) AS start_time,
            max(t.user_id) AS user_id, max(t.has_error) AS has_error
     FROM ${db}.trace_index AS t
     WHERE t.start_time < ${timeParam("to_us")} AND t.end_time >= ${timeParam("from_us")}
     GROUP BY trace_id
     HAVING ${having.join(" AND ")}
     ORDER BY start_us DESC, trace_id
     LIMIT {limit:UInt32}`,
    params,
  );
  if (rows.length === 0) return [];
  const details = await traceDetails(
    sink,
    rows.map((row) => String(row["trace_id"])),
    pageRange(rows),
  );
  return rows.map((row) => summaryOf(row, details.get(String(row["trace_id"])) ?? EMPTY_DETAIL));
}
