import { ConfigError } from "@tracehouse/schemas";
import type { Sink } from "./sink.js";
import { EMPTY_MEANS_NULL_COLUMNS, RecordTable, TABLE_COLUMNS, TIME_COLUMNS } from "./tables.js";

/** A half-open time window [from, to). */
export interface TimeRange {
  readonly from: Date;
  readonly to: Date;
}

/**
 * A record as stored, read back: contract field names, times as epoch microseconds, '' ids as null,
 * span events' `time` as epoch microseconds.
 */
export interface StoredRecord {
  readonly event_id: string;
  readonly event_time: number;
  readonly trace_id: string;
  readonly span_id: string;
  readonly parent_span_id: string | null;
  readonly correlation_id: string | null;
  readonly user_id: string | null;
  readonly thread_id: string | null;
  readonly execution_id: string | null;
  readonly agent_name: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly [field: string]: unknown;
}

export interface TraceRecords {
  readonly events: readonly StoredRecord[];
  readonly metrics: readonly StoredRecord[];
  readonly errors: readonly StoredRecord[];
  readonly spans: readonly StoredRecord[];
}

export interface ExecutionNode extends TraceRecords {
  readonly executionId: string;
  readonly agentName: string | null;
  readonly parentExecutionId: string | null;
  /** How the parent started it (SUBAGENT, TOOL, HANDOFF …), from trace_correlations. */
  readonly relationship: string | null;
  /** Latest lifecycle (STARTED, UPDATED, COMPLETED, FAILED); null if only a correlation names it. */
  readonly lifecycle: string | null;
  readonly status: string | null;
  readonly startedAtUs: number | null;
  readonly endedAtUs: number | null;
  readonly durationMs: number | null;
  readonly userId: string | null;
  readonly threadId: string | null;
  readonly spanId: string | null;
  readonly inputSummary: string | null;
  readonly resultSummary: string | null;
  readonly errorMessage: string | null;
  readonly children: readonly ExecutionNode[];
}

export interface TraceSummary {
  readonly traceId: string;
  readonly startTimeUs: number;
  readonly endTimeUs: number;
  readonly durationMs: number;
  readonly rootAgent: string | null;
  readonly userId: string | null;
  readonly hasError: boolean;
  readonly executionCount: number;
  readonly spanCount: number;
  readonly eventCount: number;
  readonly errorCount: number;
}

export interface TraceTree {
  readonly summary: TraceSummary;
  /** Executions without a (known) parent, earliest first; sub-agents nested in `children`. */
  readonly roots: readonly ExecutionNode[];
  readonly correlations: readonly StoredRecord[];
  /** Records whose execution_id is empty or names no execution of the trace. */
  readonly unattached: TraceRecords;
}

export interface GetTraceOptions {
  /**
   * Look the trace's time range up in trace_index first and bound every table scan by it
   * (partition pruning plus primary-key range). Default: true.
   */
  readonly useIndex?: boolean;
}

export interface AgentStatsOptions extends TimeRange {
  /** Only this agent. Default: all agents. */
  readonly agent?: string;
}

export interface Quantiles {
  /** Values the quantiles are taken over; 0 leaves every quantile null. */
  readonly samples: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

export interface PhaseSums {
  readonly initializationMs: number;
  readonly toolExecutionMs: number;
  readonly llmProcessingMs: number;
  readonly websocketNotificationMs: number;
  readonly totalMs: number;
  readonly queueWaitMs: number;
  readonly databaseQueryMs: number;
  readonly externalApiMs: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export interface AgentStats {
  readonly agentName: string;
  /** Executions that started in the window. */
  readonly started: number;
  /** Executions that completed or failed in the window. */
  readonly finished: number;
  readonly failures: number;
  readonly latencyMs: Quantiles;
  readonly timeToFirstTokenMs: Quantiles;
  readonly phases: PhaseSums;
}

export interface AgentHourlyStats extends AgentStats {
  readonly hour: Date;
}

export interface SlowestExecutionsOptions extends TimeRange {
  /** Default: 10. */
  readonly limit?: number;
}

export interface SlowExecution {
  readonly executionId: string;
  readonly traceId: string;
  readonly agentName: string | null;
  readonly lifecycle: string;
  readonly status: string;
  readonly durationMs: number;
  readonly endedAtUs: number;
}

export interface ErrorSummaryRow {
  readonly agentName: string | null;
  readonly errorClass: string;
  readonly severity: string;
  readonly errors: number;
  readonly retriableErrors: number;
  readonly traces: number;
  readonly executions: number;
  readonly firstSeenUs: number;
  readonly lastSeenUs: number;
  readonly sampleMessage: string;
}

export interface FindTracesOptions extends TimeRange {
  readonly userId?: string;
  readonly onlyErrors?: boolean;
  /** Default: 50. */
  readonly limit?: number;
}

const NESTED_TIME_COLUMNS = {
  events:
    "CAST(arrayMap(e -> (e.name, toUnixTimestamp64Micro(e.time), e.attributes), t.events), 'Array(Tuple(name String, time Int64, attributes Map(String, String)))')",
} as const;

function selectList(table: RecordTable): string {
  return TABLE_COLUMNS[table]
    .map((column) => {
      if (table === RecordTable.Spans && column === "events")
        return `${NESTED_TIME_COLUMNS.events} AS events`;
      if (TIME_COLUMNS.has(column)) return `toUnixTimestamp64Micro(t.${column}) AS ${column}`;
      if (EMPTY_MEANS_NULL_COLUMNS.has(column)) return `nullIf(t.${column}, '') AS ${column}`;
      return `t.${column} AS ${column}`;
    })
    .join(", ");
}

const TIME_PARAM = (name: string): string => `fromUnixTimestamp64Micro({${name}:Int64}, 'UTC')`;

const toMicros = (date: Date): number => date.getTime() * 1000;

function rangeParams(range: TimeRange): { from_us: number; to_us: number } {
  if (!(range.from instanceof Date) || !(range.to instanceof Date) || Number.isNaN(range.from.getTime())) {
    throw new ConfigError("from and to must be valid Dates");
  }
  if (range.to.getTime() < range.from.getTime()) throw new ConfigError("to is before from");
  return { from_us: toMicros(range.from), to_us: toMicros(range.to) };
}

function limitParam(limit: number | undefined, fallback: number): number {
  const value = limit ?? fallback;
  if (!Number.isInteger(value) || value <= 0)
    throw new ConfigError(`limit must be a positive integer, got ${value}`);
  return value;
}

const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));
const numOrNull = (value: unknown): number | null =>
  value === null || value === undefined || Number.isNaN(Number(value)) ? null : Number(value);
const strOrNull = (value: unknown): string | null =>
  value === null || value === undefined || value === "" ? null : String(value);

function quantiles(values: unknown, samples: unknown): Quantiles {
  const list = Array.isArray(values) && num(samples) > 0 ? values : [];
  return { samples: num(samples), p50: numOrNull(list[0]), p95: numOrNull(list[1]), p99: numOrNull(list[2]) };
}

const FACTS_WINDOW = `hour >= toStartOfHour(${TIME_PARAM("from_us")}) AND hour <= ${TIME_PARAM("to_us")}
      AND event_time >= ${TIME_PARAM("from_us")} AND event_time < ${TIME_PARAM("to_us")}`;

const AGENT_STATS_COLUMNS = `
    uniqExactIf(execution_id, source = 'execution' AND lifecycle = 'STARTED') AS started,
    uniqExactIf(execution_id, source = 'execution' AND lifecycle IN ('COMPLETED', 'FAILED')) AS finished,
    uniqExactIf(execution_id, source = 'execution' AND lifecycle = 'FAILED') AS failures,
    quantilesExactIf(0.5, 0.95, 0.99)(duration_ms, source = 'execution' AND lifecycle IN ('COMPLETED', 'FAILED') AND duration_ms IS NOT NULL) AS latency,
    countIf(source = 'execution' AND lifecycle IN ('COMPLETED', 'FAILED') AND duration_ms IS NOT NULL) AS latency_samples,
    quantilesExactIf(0.5, 0.95, 0.99)(time_to_first_token_ms, source = 'metrics' AND time_to_first_token_ms IS NOT NULL) AS ttft,
    countIf(source = 'metrics' AND time_to_first_token_ms IS NOT NULL) AS ttft_samples,
    sumIf(initialization_ms, source = 'metrics') AS initialization_ms,
    sumIf(tool_execution_ms, source = 'metrics') AS tool_execution_ms,
    sumIf(llm_processing_ms, source = 'metrics') AS llm_processing_ms,
    sumIf(websocket_notification_ms, source = 'metrics') AS websocket_notification_ms,
    sumIf(total_ms, source = 'metrics') AS total_ms,
    sumIf(queue_wait_ms, source = 'metrics') AS queue_wait_ms,
    sumIf(database_query_ms, source = 'metrics') AS database_query_ms,
    sumIf(external_api_ms, source = 'metrics') AS external_api_ms,
    sumIf(prompt_tokens, source = 'metrics') AS prompt_tokens,
    sumIf(completion_tokens, source = 'metrics') AS completion_tokens`;

type AgentStatsRow = Record<string, unknown> & { agent_name: string };

function toAgentStats(row: AgentStatsRow): AgentStats {
  return {
    agentName: row.agent_name,
    started: num(row["started"]),
    finished: num(row["finished"]),
    failures: num(row["failures"]),
    latencyMs: quantiles(row["latency"], row["latency_samples"]),
    timeToFirstTokenMs: quantiles(row["ttft"], row["ttft_samples"]),
    phases: {
      initializationMs: num(row["initialization_ms"]),
      toolExecutionMs: num(row["tool_execution_ms"]),
      llmProcessingMs: num(row["llm_processing_ms"]),
      websocketNotificationMs: num(row["websocket_notification_ms"]),
      totalMs: num(row["total_ms"]),
      queueWaitMs: num(row["queue_wait_ms"]),
      databaseQueryMs: num(row["database_query_ms"]),
      externalApiMs: num(row["external_api_ms"]),
      promptTokens: num(row["prompt_tokens"]),
      completionTokens: num(row["completion_tokens"]),
    },
  };
}

interface ExecutionStateRow {
  execution_id: string;
  agent_name: string;
  parent_execution_id: string;
  lifecycle: string;
  status: string;
  started_at: number;
  ended_at: number | null;
  duration_ms: number | null;
  user_id: string;
  thread_id: string;
  span_id: string | null;
  input_summary: string | null;
  result_summary: string | null;
  error_message: string | null;
}

interface MutableNode extends Omit<ExecutionNode, "children" | keyof TraceRecords> {
  parentExecutionId: string | null;
  relationship: string | null;
  agentName: string | null;
  events: StoredRecord[];
  metrics: StoredRecord[];
  errors: StoredRecord[];
  spans: StoredRecord[];
  children: MutableNode[];
}

function placeholderNode(executionId: string, agentName: string | null): MutableNode {
  return {
    executionId,
    agentName,
    parentExecutionId: null,
    relationship: null,
    lifecycle: null,
    status: null,
    startedAtUs: null,
    endedAtUs: null,
    durationMs: null,
    userId: null,
    threadId: null,
    spanId: null,
    inputSummary: null,
    resultSummary: null,
    errorMessage: null,
    events: [],
    metrics: [],
    errors: [],
    spans: [],
    children: [],
  };
}

function nodeFromState(row: ExecutionStateRow): MutableNode {
  return {
    ...placeholderNode(row.execution_id, strOrNull(row.agent_name)),
    parentExecutionId: strOrNull(row.parent_execution_id),
    lifecycle: row.lifecycle,
    status: row.status,
    startedAtUs: num(row.started_at),
    endedAtUs: numOrNull(row.ended_at),
    durationMs: numOrNull(row.duration_ms),
    userId: strOrNull(row.user_id),
    threadId: strOrNull(row.thread_id),
    spanId: strOrNull(row.span_id),
    inputSummary: row.input_summary,
    resultSummary: row.result_summary,
    errorMessage: row.error_message,
  };
}

/** True when following parents from `node` comes back to it. */
function inCycle(node: MutableNode, nodes: ReadonlyMap<string, MutableNode>): boolean {
  const seen = new Set<string>();
  let current: MutableNode | undefined = node;
  while (current?.parentExecutionId != null) {
    if (current.parentExecutionId === node.executionId) return true;
    if (seen.has(current.executionId)) return false;
    seen.add(current.executionId);
    current = nodes.get(current.parentExecutionId);
  }
  return false;
}

const byStart = (a: MutableNode, b: MutableNode): number =>
  (a.startedAtUs ?? Number.MAX_SAFE_INTEGER) - (b.startedAtUs ?? Number.MAX_SAFE_INTEGER) ||
  a.executionId.localeCompare(b.executionId);

function sortTree(nodes: MutableNode[]): void {
  nodes.sort(byStart);
  for (const node of nodes) sortTree(node.children);
}

/**
 * The read side: trace lookup and the common aggregate queries. Every value is a bound
 * `{name:Type}` parameter; every read is exact before merges (FINAL or LIMIT 1 BY event_id on
 * ReplacingMergeTree, -Merge over idempotent states).
 */
export class TraceQueries {
  readonly #db: string;

  constructor(private readonly sink: Sink) {
    this.#db = sink.database;
  }

  /** The execution tree of one trace with its events, metrics, errors and spans; null if unknown. */
  async getTrace(traceId: string, options: GetTraceOptions = {}): Promise<TraceTree | null> {
    const useIndex = options.useIndex ?? true;
    const params: Record<string, unknown> = { trace_id: traceId };
    let bounds = "";
    if (useIndex) {
      const [range] = await this.sink.query<{ from_us: number; to_us: number }>(
        `SELECT toUnixTimestamp64Micro(min(start_time)) AS from_us, toUnixTimestamp64Micro(max(end_time)) AS to_us
         FROM ${this.#db}.trace_index WHERE trace_id = {trace_id:String} GROUP BY trace_id`,
        params,
      );
      if (range === undefined) return null;
      params["from_us"] = range.from_us;
      params["to_us"] = range.to_us;
      bounds = ` AND t.event_time BETWEEN ${TIME_PARAM("from_us")} AND ${TIME_PARAM("to_us")}`;
    }
    const records = (table: RecordTable): Promise<StoredRecord[]> =>
      this.sink.query<StoredRecord>(
        `SELECT ${selectList(table)} FROM ${this.#db}.${table} AS t
         WHERE t.trace_id = {trace_id:String}${bounds}
         ORDER BY t.event_time, t.event_id LIMIT 1 BY t.event_id`,
        params,
      );
    const [executions, correlations, events, metrics, errors, spans] = await Promise.all([
      this.sink.query<ExecutionStateRow>(
        `SELECT execution_id, max(agent_name) AS agent_name, max(parent_execution_id) AS parent_execution_id,
                argMaxMerge(s.lifecycle) AS lifecycle, argMaxMerge(s.status) AS status,
                toUnixTimestamp64Micro(min(first_seen)) AS started_at, toUnixTimestamp64Micro(max(s.ended_at)) AS ended_at,
                argMaxMerge(s.duration_ms) AS duration_ms, max(s.user_id) AS user_id, max(s.thread_id) AS thread_id,
                argMinMerge(s.span_id) AS span_id, argMinMerge(s.input_summary) AS input_summary,
                argMaxMerge(s.result_summary) AS result_summary, argMaxMerge(s.error_message) AS error_message
         FROM ${this.#db}.executions_state AS s WHERE s.trace_id = {trace_id:String} GROUP BY execution_id`,
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
    return buildTree(traceId, executions, correlations, { events, metrics, errors, spans });
  }

  /** Per agent over the window: executions, failures, latency and TTFT quantiles, phase sums. */
  async agentStats(options: AgentStatsOptions): Promise<AgentStats[]> {
    const params: Record<string, unknown> = rangeParams(options);
    if (options.agent !== undefined) params["agent"] = options.agent;
    const rows = await this.sink.query<AgentStatsRow>(
      `SELECT agent_name, ${AGENT_STATS_COLUMNS}
       FROM ${this.#db}.agent_hourly_facts FINAL
       WHERE ${FACTS_WINDOW}${options.agent === undefined ? "" : " AND agent_name = {agent:String}"}
       GROUP BY agent_name ORDER BY agent_name`,
      params,
    );
    return rows.map(toAgentStats);
  }

  /** Per agent and hour (hours overlapping the window, whole hours). */
  async agentHourlyStats(options: AgentStatsOptions): Promise<AgentHourlyStats[]> {
    const params: Record<string, unknown> = rangeParams(options);
    if (options.agent !== undefined) params["agent"] = options.agent;
    const rows = await this.sink.query<AgentStatsRow & { hour_us: number }>(
      `SELECT agent_name, toUnixTimestamp(hour) * 1000000 AS hour_us, ${AGENT_STATS_COLUMNS}
       FROM ${this.#db}.agent_hourly_facts FINAL
       WHERE hour >= toStartOfHour(${TIME_PARAM("from_us")}) AND hour < ${TIME_PARAM("to_us")}${
         options.agent === undefined ? "" : " AND agent_name = {agent:String}"
       }
       GROUP BY agent_name, hour ORDER BY hour, agent_name`,
      params,
    );
    return rows.map((row) => ({ ...toAgentStats(row), hour: new Date(num(row.hour_us) / 1000) }));
  }

  /** Completed or failed executions in the window, longest first (one row per execution). */
  async slowestExecutions(options: SlowestExecutionsOptions): Promise<SlowExecution[]> {
    const rows = await this.sink.query<Record<string, unknown>>(
      `SELECT execution_id, trace_id, agent_name, lifecycle, status, duration_ms,
              toUnixTimestamp64Micro(event_time) AS ended_at_us
       FROM ${this.#db}.agent_hourly_facts FINAL
       WHERE source = 'execution' AND lifecycle IN ('COMPLETED', 'FAILED') AND duration_ms IS NOT NULL
         AND ${FACTS_WINDOW}
       ORDER BY duration_ms DESC, execution_id
       LIMIT 1 BY execution_id
       LIMIT {limit:UInt32}`,
      { ...rangeParams(options), limit: limitParam(options.limit, 10) },
    );
    return rows.map((row) => ({
      executionId: String(row["execution_id"]),
      traceId: String(row["trace_id"]),
      agentName: strOrNull(row["agent_name"]),
      lifecycle: String(row["lifecycle"]),
      status: String(row["status"]),
      durationMs: num(row["duration_ms"]),
      endedAtUs: num(row["ended_at_us"]),
    }));
  }

  /** Errors per agent, class and severity over the hours overlapping the window, most frequent first. */
  async errorSummary(range: TimeRange): Promise<ErrorSummaryRow[]> {
    const rows = await this.sink.query<Record<string, unknown>>(
      `SELECT agent_name, error_class, severity,
              uniqExactMerge(errors) AS errors, uniqExactMerge(retriable_errors) AS retriable_errors,
              uniqExactMerge(traces) AS traces, uniqExactMerge(executions) AS executions,
              toUnixTimestamp64Micro(min(first_seen)) AS first_seen_us,
              toUnixTimestamp64Micro(max(last_seen)) AS last_seen_us,
              argMaxMerge(sample_message) AS sample_message
       FROM ${this.#db}.errors_hourly
       WHERE hour >= toStartOfHour(${TIME_PARAM("from_us")}) AND hour < ${TIME_PARAM("to_us")}
       GROUP BY agent_name, error_class, severity
       ORDER BY errors DESC, agent_name, error_class, severity`,
      rangeParams(range),
    );
    return rows.map((row) => ({
      agentName: strOrNull(row["agent_name"]),
      errorClass: String(row["error_class"]),
      severity: String(row["severity"]),
      errors: num(row["errors"]),
      retriableErrors: num(row["retriable_errors"]),
      traces: num(row["traces"]),
      executions: num(row["executions"]),
      firstSeenUs: num(row["first_seen_us"]),
      lastSeenUs: num(row["last_seen_us"]),
      sampleMessage: String(row["sample_message"]),
    }));
  }

  /** Traces that started in the window, newest first, from the trace index. */
  async findTraces(options: FindTracesOptions): Promise<TraceSummary[]> {
    const params: Record<string, unknown> = { ...rangeParams(options), limit: limitParam(options.limit, 50) };
    const having: string[] = [
      `start_time >= ${TIME_PARAM("from_us")}`,
      `start_time < ${TIME_PARAM("to_us")}`,
    ];
    if (options.userId !== undefined) {
      params["user_id"] = options.userId;
      having.push("user_id = {user_id:String}");
    }
    if (options.onlyErrors === true) having.push("has_error = 1");
    const rows = await this.sink.query<Record<string, unknown>>(
      `SELECT trace_id, toUnixTimestamp64Micro(min(t.start_time)) AS start_us,
              toUnixTimestamp64Micro(max(t.end_time)) AS end_us, min(t.start_time) AS start_time,
              max(t.user_id) AS user_id, max(t.has_error) AS has_error, argMinMerge(t.root).1 AS root_agent,
              uniqExactMerge(t.spans) AS span_count, uniqExactMerge(t.executions) AS execution_count,
              uniqExactMerge(t.events) AS event_count, uniqExactMerge(t.errors) AS error_count
       FROM ${this.#db}.trace_index AS t
       WHERE t.start_time < ${TIME_PARAM("to_us")} AND t.end_time >= ${TIME_PARAM("from_us")}
       GROUP BY trace_id
       HAVING ${having.join(" AND ")}
       ORDER BY start_us DESC, trace_id
       LIMIT {limit:UInt32}`,
      params,
    );
    return rows.map((row) => ({
      traceId: String(row["trace_id"]),
      startTimeUs: num(row["start_us"]),
      endTimeUs: num(row["end_us"]),
      durationMs: (num(row["end_us"]) - num(row["start_us"])) / 1000,
      rootAgent: strOrNull(row["root_agent"]),
      userId: strOrNull(row["user_id"]),
      hasError: num(row["has_error"]) === 1,
      executionCount: num(row["execution_count"]),
      spanCount: num(row["span_count"]),
      eventCount: num(row["event_count"]),
      errorCount: num(row["error_count"]),
    }));
  }
}

function buildTree(
  traceId: string,
  executions: readonly ExecutionStateRow[],
  correlations: readonly StoredRecord[],
  records: { events: StoredRecord[]; metrics: StoredRecord[]; errors: StoredRecord[]; spans: StoredRecord[] },
): TraceTree {
  const nodes = new Map<string, MutableNode>(executions.map((row) => [row.execution_id, nodeFromState(row)]));
  for (const link of correlations) {
    const parentId = String(link["parent_execution_id"]);
    const childId = String(link["child_execution_id"]);
    if (!nodes.has(parentId)) nodes.set(parentId, placeholderNode(parentId, link.agent_name));
    const child = nodes.get(childId) ?? placeholderNode(childId, strOrNull(link["child_agent_name"]));
    nodes.set(childId, child);
    child.parentExecutionId ??= parentId;
    if (child.parentExecutionId === parentId) child.relationship = String(link["relationship"]);
  }
  const unattached = {
    events: [] as StoredRecord[],
    metrics: [] as StoredRecord[],
    errors: [] as StoredRecord[],
    spans: [] as StoredRecord[],
  };
  for (const kind of ["events", "metrics", "errors", "spans"] as const) {
    for (const record of records[kind]) {
      const node = record.execution_id === null ? undefined : nodes.get(record.execution_id);
      (node ?? unattached)[kind].push(record);
    }
  }
  const roots: MutableNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.parentExecutionId === null ? undefined : nodes.get(node.parentExecutionId);
    if (parent === undefined || inCycle(node, nodes)) roots.push(node);
    else parent.children.push(node);
  }
  sortTree(roots);
  return { summary: summarise(traceId, nodes, roots, records), roots, correlations, unattached };
}

function summarise(
  traceId: string,
  nodes: ReadonlyMap<string, MutableNode>,
  roots: readonly MutableNode[],
  records: TraceRecords,
): TraceSummary {
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  const see = (us: unknown): void => {
    if (typeof us === "number") {
      start = Math.min(start, us);
      end = Math.max(end, us);
    }
  };
  for (const node of nodes.values()) {
    see(node.startedAtUs);
    see(node.endedAtUs);
  }
  for (const kind of ["events", "metrics", "errors", "spans"] as const) {
    for (const record of records[kind]) see(record.event_time);
  }
  for (const span of records.spans) {
    see(span["start_time"]);
    see(span["end_time"]);
  }
  let userId: string | null = null;
  for (const node of nodes.values()) userId ??= node.userId;
  for (const record of [...records.spans, ...records.events]) userId ??= record.user_id;
  const hasError =
    records.spans.some((span) => span["status_code"] === "ERROR") ||
    records.errors.some((error) => error["severity"] !== "WARNING") ||
    [...nodes.values()].some((node) => node.lifecycle === "FAILED");
  const known = Number.isFinite(start);
  return {
    traceId,
    startTimeUs: known ? start : 0,
    endTimeUs: known ? end : 0,
    durationMs: known ? (end - start) / 1000 : 0,
    rootAgent: roots[0]?.agentName ?? null,
    userId,
    hasError,
    executionCount: [...nodes.values()].filter((node) => node.lifecycle !== null).length,
    spanCount: new Set(records.spans.map((span) => span.span_id)).size,
    eventCount: records.events.length,
    errorCount: records.errors.length,
  };
}
