import { EMPTY_METRICS } from "@tracehouse/schemas";
import type { Row } from "../../src/index.js";
import { emptyRows, envelope } from "./records.js";
import type { Envelope, TraceRows } from "./records.js";

export const SECOND = 1_000_000;
export const HOUR = 3600 * SECOND;
/** The start of an hour three days ago, in epoch microseconds (inside the default 90-day TTL). */
export const T0 = (Math.floor(Date.now() / 3_600_000) - 72) * 3_600_000 * 1000;
/**
 * An hour-aligned start near T0 from which `spanUs` stays inside one calendar month (one partition),
 * whatever today's date: T0 itself, or hours before the month starts when T0's span would cross it.
 */
export const startInOneMonth = (spanUs: number): number => {
  const end = new Date((T0 + spanUs) / 1000);
  const monthStart = Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), 1) * 1000;
  return monthStart > T0 ? monthStart - Math.ceil(spanUs / HOUR) * HOUR : T0;
};
/** The Date of an epoch-microsecond time, as the queries take a window's ends. */
export const at = (us: number): Date => new Date(us / 1000);
/** TRACE_OLD is this much earlier: 35 days always lands in an earlier month (another partition). */
export const OLD_OFFSET = 35 * 24 * HOUR;

export const TRACE_A = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
export const TRACE_B = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";
/** A trace a month earlier: another partition. */
export const TRACE_OLD = "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3";

export const EXEC = {
  planner: "exec-planner-a",
  researcher: "exec-researcher-a",
  coder: "exec-coder-a",
} as const;

const SPAN = {
  planner: "1000000000000001",
  researcher: "1000000000000002",
  coder: "1000000000000003",
  llm: "1000000000000004",
} as const;

/** An execution row: status from the lifecycle, every optional column null unless given. */
export function executionRow(env: Envelope, lifecycle: string, extra: Record<string, unknown> = {}): Row {
  return {
    ...env,
    lifecycle,
    status: lifecycle === "STARTED" ? "running" : lifecycle.toLowerCase(),
    parent_execution_id: null,
    input_summary: null,
    result_summary: null,
    error_message: null,
    duration_ms: null,
    ...extra,
  };
}

/** A span row without attributes, events or links unless given. */
export function spanRow(
  env: Envelope,
  name: string,
  start: number,
  end: number,
  status_code = "OK",
  extra: Record<string, unknown> = {},
): Row {
  return {
    ...env,
    name,
    kind: "INTERNAL",
    start_time: start,
    end_time: end,
    status_code,
    status_message: null,
    attributes: {},
    events: [],
    links: [],
    ...extra,
  };
}

/**
 * Trace A: planner (root) → researcher (sub-agent via parent_execution_id, FAILED) and
 * planner → coder (linked only by a TOOL correlation). Trace B: four more planner runs in the next
 * hour (durations 100..400 ms). Trace OLD: one planner run a month earlier.
 * Planner latencies in [T0, T0+2h): 10000, 100, 200, 300, 400 → p50 300, p95 10000.
 */
export function fixtureRows(): TraceRows {
  const rows = emptyRows();
  const a = (fields: Partial<Envelope> & { event_time: number }): Envelope =>
    envelope({
      trace_id: TRACE_A,
      user_id: "user-1",
      correlation_id: "req-1",
      thread_id: "thread-1",
      ...fields,
    });
  const planner = { execution_id: EXEC.planner, agent_name: "planner", span_id: SPAN.planner };
  const researcher = {
    execution_id: EXEC.researcher,
    agent_name: "researcher",
    span_id: SPAN.researcher,
    parent_span_id: SPAN.planner,
  };
  const coder = {
    execution_id: EXEC.coder,
    agent_name: "coder",
    span_id: SPAN.coder,
    parent_span_id: SPAN.planner,
  };

  rows.agent_executions.push(
    executionRow(a({ ...planner, event_time: T0 }), "STARTED", { input_summary: "plan a trip" }),
    executionRow(a({ ...planner, event_time: T0 + 1 * SECOND }), "UPDATED", { status: "waiting_for_tool" }),
    executionRow(a({ ...planner, event_time: T0 + 10 * SECOND }), "COMPLETED", {
      duration_ms: 10000,
      result_summary: "trip planned",
    }),
    executionRow(a({ ...researcher, event_time: T0 + 2 * SECOND }), "STARTED", {
      parent_execution_id: EXEC.planner,
    }),
    executionRow(a({ ...researcher, event_time: T0 + 5 * SECOND }), "FAILED", {
      parent_execution_id: EXEC.planner,
      duration_ms: 3000,
      error_message: "search backend down",
    }),
    executionRow(a({ ...coder, event_time: T0 + 6 * SECOND }), "STARTED"),
    executionRow(a({ ...coder, event_time: T0 + 8 * SECOND }), "COMPLETED", { duration_ms: 2000 }),
  );
  rows.trace_correlations.push(
    {
      ...a({ ...planner, event_time: T0 + 6 * SECOND }),
      parent_execution_id: EXEC.planner,
      child_execution_id: EXEC.coder,
      child_span_id: SPAN.coder,
      child_agent_name: "coder",
      relationship: "TOOL",
    },
    {
      ...a({ ...planner, event_time: T0 + 2 * SECOND }),
      parent_execution_id: EXEC.planner,
      child_execution_id: EXEC.researcher,
      child_span_id: SPAN.researcher,
      child_agent_name: "researcher",
      relationship: "SUBAGENT",
    },
  );
  const event = (
    env: Envelope,
    event_kind: string,
    name: string,
    extra: Record<string, unknown> = {},
  ): Row => ({
    ...env,
    event_kind,
    name,
    status: null,
    duration_ms: null,
    payload_bytes: null,
    attributes: {},
    ...extra,
  });
  rows.agent_events.push(
    event(a({ ...planner, span_id: SPAN.llm, event_time: T0 + 100_000 }), "LLM_CALL_START", "gpt-4o"),
    event(a({ ...planner, span_id: SPAN.llm, event_time: T0 + 220_000 }), "LLM_FIRST_TOKEN", "gpt-4o", {
      duration_ms: 120,
    }),
    event(a({ ...planner, span_id: SPAN.llm, event_time: T0 + 900_000 }), "LLM_CALL_END", "gpt-4o", {
      status: "ok",
      duration_ms: 800,
      payload_bytes: 2048,
      attributes: { "llm.model": "gpt-4o" },
    }),
    event(a({ ...researcher, event_time: T0 + 3 * SECOND }), "TOOL_CALL_START", "web_search"),
    event(a({ ...researcher, event_time: T0 + 4 * SECOND }), "TOOL_CALL_END", "web_search", {
      status: "error",
      duration_ms: 1000,
    }),
    event(a({ ...coder, event_time: T0 + 7 * SECOND }), "CUSTOM", "compiled"),
    event(a({ event_time: T0 + 9 * SECOND }), "WEBSOCKET_NOTIFICATION", "session-channel"),
  );
  const metrics = (env: Envelope, values: Record<string, number | null>): Row => ({
    ...env,
    ...EMPTY_METRICS,
    ...values,
  });
  rows.performance_metrics.push(
    metrics(a({ ...planner, event_time: T0 + 10 * SECOND }), {
      initialization_ms: 5,
      llm_processing_ms: 800,
      websocket_notification_ms: 3,
      total_ms: 10000,
      time_to_first_token_ms: 120,
      prompt_tokens: 1000,
      completion_tokens: 200,
    }),
    metrics(a({ ...researcher, event_time: T0 + 5 * SECOND }), {
      initialization_ms: 7,
      tool_execution_ms: 1000,
      total_ms: 3000,
      time_to_first_token_ms: 300,
    }),
    metrics(a({ ...coder, event_time: T0 + 8 * SECOND }), { initialization_ms: 2, total_ms: 2000 }),
  );
  const error = (
    env: Envelope,
    error_class: string,
    message: string,
    severity: string,
    retriable: boolean,
  ): Row => ({
    ...env,
    error_class,
    message,
    stack: null,
    code: null,
    retriable,
    phase: "tool_execution",
    severity,
  });
  rows.error_logs.push(
    error(
      a({ ...researcher, event_time: T0 + 4 * SECOND }),
      "BackendUnavailable",
      "search backend down",
      "ERROR",
      true,
    ),
    error(
      a({ ...researcher, event_time: T0 + 4.5 * SECOND }),
      "BackendUnavailable",
      "search backend still down",
      "ERROR",
      true,
    ),
    error(a({ ...planner, event_time: T0 + 9 * SECOND }), "RateLimitWarning", "slow down", "WARNING", false),
  );
  rows.spans.push(
    spanRow(
      a({ ...planner, parent_span_id: null, event_time: T0 }),
      "agent planner",
      T0,
      T0 + 10 * SECOND,
      "OK",
      {
        kind: "SERVER",
        events: [{ name: "plan.ready", time: T0 + 1 * SECOND, attributes: { steps: "3" } }],
        links: [{ trace_id: TRACE_B, span_id: "2000000000000001", attributes: { reason: "follow-up" } }],
      },
    ),
    spanRow(
      a({ ...planner, span_id: SPAN.llm, parent_span_id: SPAN.planner, event_time: T0 + 100_000 }),
      "llm gpt-4o",
      T0 + 100_000,
      T0 + 900_000,
    ),
    spanRow(
      a({ ...researcher, event_time: T0 + 2 * SECOND }),
      "agent researcher",
      T0 + 2 * SECOND,
      T0 + 5 * SECOND,
      "ERROR",
      {
        status_message: "search backend down",
      },
    ),
    spanRow(a({ ...coder, event_time: T0 + 6 * SECOND }), "agent coder", T0 + 6 * SECOND, T0 + 8 * SECOND),
  );

  [100, 200, 300, 400].forEach((durationMs, i) => {
    const start = T0 + HOUR + i * 60 * SECOND;
    const b = {
      trace_id: TRACE_B,
      user_id: "user-2",
      execution_id: `exec-planner-b${i}`,
      agent_name: "planner",
    };
    rows.agent_executions.push(
      executionRow(envelope({ ...b, event_time: start }), "STARTED"),
      executionRow(envelope({ ...b, event_time: start + durationMs * 1000 }), "COMPLETED", {
        duration_ms: durationMs,
      }),
    );
    rows.performance_metrics.push(
      metrics(envelope({ ...b, event_time: start + durationMs * 1000 }), {
        total_ms: durationMs,
        time_to_first_token_ms: durationMs / 2,
      }),
    );
  });

  const old = {
    trace_id: TRACE_OLD,
    user_id: "user-3",
    execution_id: "exec-planner-old",
    agent_name: "planner",
  };
  const oldStart = T0 - OLD_OFFSET;
  rows.agent_executions.push(
    executionRow(envelope({ ...old, event_time: oldStart }), "STARTED"),
    executionRow(envelope({ ...old, event_time: oldStart + 50_000_000 }), "FAILED", { duration_ms: 50000 }),
  );
  rows.error_logs.push(
    error(envelope({ ...old, event_time: oldStart + 40_000_000 }), "OldError", "long ago", "FATAL", false),
  );
  rows.spans.push(
    spanRow(
      envelope({ ...old, event_time: oldStart }),
      "agent planner",
      oldStart,
      oldStart + 50_000_000,
      "ERROR",
    ),
  );
  return rows;
}

/** A performance-metrics row with these token counts and time to first token (phase figures fixed). */
export function tokenMetricsRow(
  base: Record<string, unknown>,
  at: number,
  prompt: number | null,
  completion: number | null,
  ttftMs: number | null = null,
): Row {
  return {
    ...envelope({ ...base, event_time: at } as never),
    initialization_ms: 1,
    tool_execution_ms: 0,
    llm_processing_ms: 5,
    websocket_notification_ms: 0,
    total_ms: 10,
    time_to_first_token_ms: ttftMs,
    queue_wait_ms: null,
    database_query_ms: null,
    external_api_ms: null,
    websocket_latency_ms: null,
    prompt_tokens: prompt,
    completion_tokens: completion,
  };
}

/** An LLM call's start or end event naming `model`; an end carries the cached input tokens when given. */
export function llmEventRow(
  base: Record<string, unknown>,
  at: number,
  kind: "LLM_CALL_START" | "LLM_CALL_END",
  model: string,
  cached?: string,
): Row {
  const end = kind === "LLM_CALL_END";
  return {
    ...envelope({ ...base, event_time: at } as never),
    event_kind: kind,
    name: model,
    status: end ? "ok" : null,
    duration_ms: end ? 1 : null,
    payload_bytes: null,
    attributes: cached === undefined ? {} : { "gen_ai.usage.cache_read.input_tokens": cached },
  };
}
