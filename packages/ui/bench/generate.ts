import type { Sink } from "@tracehouse/clickhouse";

/** Executions per trace: a root and four sub-agents. */
export const FANOUT = 5;
/** Events per execution: an LLM call (start, first token, end), two tool calls, three notifications. */
export const EVENTS_PER_EXECUTION = 10;
const AGENTS = "['planner', 'researcher', 'coder', 'reviewer', 'writer']";
const MODELS = "['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-5', 'gpt-4.1', 'local-llama']";
const KINDS =
  "['LLM_CALL_START', 'LLM_FIRST_TOKEN', 'LLM_CALL_END', 'TOOL_CALL_START', 'TOOL_CALL_END', 'TOOL_CALL_START', 'TOOL_CALL_END', 'WEBSOCKET_NOTIFICATION', 'WEBSOCKET_NOTIFICATION', 'WEBSOCKET_NOTIFICATION']";

/** Expressions of execution `e` (a UInt64 column named e), shared by every table's generator. */
function executionColumns(baseUs: number, spacingUs: number): string {
  return `
    intDiv(e, ${FANOUT}) AS t,
    e % ${FANOUT} AS k,
    lower(hex(MD5(toString(t)))) AS trace_id,
    concat('e-', toString(e)) AS execution_id,
    ${AGENTS}[k + 1] AS agent_name,
    concat('user-', toString(t % 5000)) AS user_id,
    concat('thread-', toString(t % 20000)) AS thread_id,
    toInt64(${baseUs} + t * ${spacingUs} + k * 50000) AS start_us,
    if(k = 0, 5000 + cityHash64(e) % 3000, 100 + cityHash64(e) % 4000) AS duration_ms,
    cityHash64(e, 1) % 20 = 0 AS failed`;
}

export interface GenerateOptions {
  readonly traces: number;
  /** Epoch microseconds of the first trace; traces follow every `spacingUs`. */
  readonly baseUs: number;
  readonly spacingUs: number;
  /** Rows per INSERT. Default: 1,000,000. */
  readonly chunk?: number;
}

async function chunked(
  total: number,
  chunk: number,
  insert: (offset: number, count: number) => Promise<void>,
) {
  for (let offset = 0; offset < total; offset += chunk) await insert(offset, Math.min(chunk, total - offset));
}

/** Fills the record tables (and through them the materialized views) with INSERT … SELECT from numbers(). */
export async function generate(
  sink: Sink,
  options: GenerateOptions,
): Promise<{ executions: number; events: number }> {
  const db = sink.database;
  const executions = options.traces * FANOUT;
  const chunk = options.chunk ?? 1_000_000;
  const cols = executionColumns(options.baseUs, options.spacingUs);
  await chunked(executions * 2, chunk, (offset, count) =>
    sink.command(`INSERT INTO ${db}.agent_executions (event_id, event_time, trace_id, span_id, user_id, thread_id, execution_id, agent_name,
        lifecycle, status, parent_execution_id, input_summary, result_summary, error_message, duration_ms)
      SELECT toString(generateUUIDv4(n)), fromUnixTimestamp64Micro(if(phase = 0, start_us, start_us + duration_ms * 1000), 'UTC'),
        trace_id, lower(hex(toUInt64(cityHash64(e, 2)))), user_id, thread_id, execution_id, agent_name,
        if(phase = 0, 'STARTED', if(failed, 'FAILED', 'COMPLETED')), if(phase = 0, 'running', if(failed, 'failed', 'completed')),
        if(k = 0, '', concat('e-', toString(t * ${FANOUT}))), if(phase = 0, concat('question ', toString(t)), NULL),
        if(phase = 1 AND NOT failed, concat('answer ', toString(t)), NULL), if(phase = 1 AND failed, 'tool timed out', NULL),
        if(phase = 0, NULL, toFloat64(duration_ms))
      FROM (SELECT number AS n, intDiv(number, 2) AS e, number % 2 AS phase, ${cols} FROM numbers(${offset}, ${count}))`),
  );
  const events = executions * EVENTS_PER_EXECUTION;
  await chunked(events, chunk, (offset, count) =>
    sink.command(`INSERT INTO ${db}.agent_events (event_id, event_time, trace_id, span_id, user_id, thread_id, execution_id, agent_name,
        event_kind, name, status, duration_ms, attributes)
      SELECT toString(generateUUIDv4(n)), fromUnixTimestamp64Micro(start_us + (j + 1) * 10000, 'UTC'), trace_id,
        lower(hex(toUInt64(cityHash64(e, 2)))), user_id, thread_id, execution_id, agent_name, kind,
        multiIf(j < 3, ${MODELS}[e % 5 + 1], j < 7, 'web_search', 'session'),
        if(kind IN ('LLM_CALL_END', 'TOOL_CALL_END'), 'ok', NULL),
        if(kind IN ('LLM_CALL_END', 'TOOL_CALL_END', 'LLM_FIRST_TOKEN'), 10.0, NULL),
        if(kind = 'LLM_CALL_END', map('gen_ai.usage.cache_read.input_tokens', '100'), map())
      FROM (SELECT number AS n, intDiv(number, ${EVENTS_PER_EXECUTION}) AS e, number % ${EVENTS_PER_EXECUTION} AS j,
                   ${KINDS}[j + 1] AS kind, ${cols} FROM numbers(${offset}, ${count}))`),
  );
  await chunked(executions, chunk, (offset, count) =>
    sink.command(`INSERT INTO ${db}.performance_metrics (event_id, event_time, trace_id, span_id, user_id, thread_id, execution_id, agent_name,
        initialization_ms, tool_execution_ms, llm_processing_ms, websocket_notification_ms, total_ms, time_to_first_token_ms,
        queue_wait_ms, prompt_tokens, completion_tokens)
      SELECT toString(generateUUIDv4(e)), fromUnixTimestamp64Micro(start_us + duration_ms * 1000, 'UTC'), trace_id,
        lower(hex(toUInt64(cityHash64(e, 2)))), user_id, thread_id, execution_id, agent_name,
        5, duration_ms * 0.3, duration_ms * 0.6, 1, duration_ms, 50 + cityHash64(e, 3) % 900, 2,
        500 + cityHash64(e, 4) % 3000, 50 + cityHash64(e, 5) % 500
      FROM (SELECT number AS e, ${cols} FROM numbers(${offset}, ${count}))`),
  );
  await chunked(executions, chunk, (offset, count) =>
    sink.command(`INSERT INTO ${db}.error_logs (event_id, event_time, trace_id, span_id, user_id, thread_id, execution_id, agent_name,
        error_class, message, retriable, severity)
      SELECT toString(generateUUIDv4(e)), fromUnixTimestamp64Micro(start_us + duration_ms * 1000, 'UTC'), trace_id,
        lower(hex(toUInt64(cityHash64(e, 2)))), user_id, thread_id, execution_id, agent_name,
        'ToolTimeout', 'tool timed out', true, 'ERROR'
      FROM (SELECT number AS e, ${cols} FROM numbers(${offset}, ${count})) WHERE failed`),
  );
  await chunked(executions, chunk, (offset, count) =>
    sink.command(`INSERT INTO ${db}.trace_correlations (event_id, event_time, trace_id, span_id, user_id, execution_id, agent_name,
        parent_execution_id, child_execution_id, child_span_id, child_agent_name, relationship)
      SELECT toString(generateUUIDv4(e)), fromUnixTimestamp64Micro(start_us, 'UTC'), trace_id, lower(hex(toUInt64(cityHash64(e, 2)))),
        user_id, concat('e-', toString(t * ${FANOUT})), 'planner', concat('e-', toString(t * ${FANOUT})), execution_id,
        lower(hex(toUInt64(cityHash64(e, 2)))), agent_name, 'SUBAGENT'
      FROM (SELECT number AS e, ${cols} FROM numbers(${offset}, ${count})) WHERE k > 0`),
  );
  return { executions, events };
}
