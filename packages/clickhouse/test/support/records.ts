import { randomBytes } from "node:crypto";
import type { Envelope } from "@tracehouse/schemas";
import type { Row } from "../../src/index.js";

/** A UUIDv7 (time-ordered) for `ms`, as the producer would mint it. */
export function uuidv7(ms: number): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const hex = (bytes: number): string => randomBytes(bytes).toString("hex");

export type { Envelope };

export interface TraceRows {
  agent_executions: Row[];
  agent_events: Row[];
  performance_metrics: Row[];
  trace_correlations: Row[];
  error_logs: Row[];
  spans: Row[];
}

export const emptyRows = (): TraceRows => ({
  agent_executions: [],
  agent_events: [],
  performance_metrics: [],
  trace_correlations: [],
  error_logs: [],
  spans: [],
});

export function envelope(fields: Partial<Envelope> & Pick<Envelope, "event_time" | "trace_id">): Envelope {
  return {
    event_id: uuidv7(Math.floor(fields.event_time / 1000)),
    span_id: hex(8),
    parent_span_id: null,
    correlation_id: null,
    user_id: null,
    thread_id: null,
    execution_id: null,
    agent_name: null,
    metadata: {},
    ...fields,
  };
}

/** Deterministic pseudo-random numbers (mulberry32), so generated data is reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const AGENTS = ["planner", "researcher", "coder", "reviewer", "summarizer"] as const;
const TOOLS = ["web_search", "sql_query", "code_exec", "file_read", "http_get"] as const;
const MODELS = ["gpt-4o", "claude-sonnet", "llama-3-70b"] as const;

export interface GenerateOptions {
  readonly traces: number;
  /** Epoch microseconds of the first trace. */
  readonly startUs: number;
  /** Spacing between trace starts. Default: 1 s. */
  readonly traceSpacingUs?: number;
  /** Sub-agents per trace. Default: 2. */
  readonly subAgents?: number;
  /** Tool/LLM call pairs per execution. Default: 3. */
  readonly callsPerExecution?: number;
  readonly seed?: number;
}

/**
 * Realistic traces: a root agent with sub-agents (linked by parent_execution_id and a
 * correlation), lifecycle records, tool and LLM events with a first-token event, one metrics
 * record per execution, a span per execution and per call, errors on failed executions.
 */
export function generateTraces(options: GenerateOptions): TraceRows {
  const random = seededRandom(options.seed ?? 1);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const rows = emptyRows();
  const spacing = options.traceSpacingUs ?? 1_000_000;
  for (let t = 0; t < options.traces; t++) {
    const traceId = hex(16);
    const userId = `user-${Math.floor(random() * 500)}`;
    const threadId = `thread-${Math.floor(random() * 2000)}`;
    const correlationId = `req-${hex(6)}`;
    const traceStart = options.startUs + t * spacing;
    const root = addExecution(null, AGENTS[0], traceStart, null);
    for (let s = 0; s < (options.subAgents ?? 2); s++) {
      addExecution(root, pick(AGENTS.slice(1)), traceStart + 50_000 + s * 400_000, root.spanId);
    }

    function addExecution(
      parent: { executionId: string; agent: string } | null,
      agent: string,
      startUs: number,
      parentSpanId: string | null,
    ): { executionId: string; agent: string; spanId: string } {
      const executionId = uuidv7(Math.floor(startUs / 1000));
      const spanId = hex(8);
      const failed = random() < 0.05;
      const base = {
        trace_id: traceId,
        user_id: userId,
        thread_id: threadId,
        correlation_id: correlationId,
        execution_id: executionId,
        agent_name: agent,
      };
      const calls = options.callsPerExecution ?? 3;
      let clock = startUs + 1_000;
      let toolMs = 0;
      let llmMs = 0;
      const ttftMs = 80 + random() * 900;
      for (let c = 0; c < calls; c++) {
        const isTool = random() < 0.5;
        const callMs = isTool ? 5 + random() * 400 : 200 + random() * 3000;
        const name = isTool ? pick(TOOLS) : pick(MODELS);
        const callSpan = hex(8);
        const kindStart = isTool ? "TOOL_CALL_START" : "LLM_CALL_START";
        const kindEnd = isTool ? "TOOL_CALL_END" : "LLM_CALL_END";
        const attrs = isTool
          ? { "tool.args": `{"q":"${hex(6)}"}` }
          : { "llm.model": name, "llm.temperature": "0.2" };
        rows.agent_events.push({
          ...envelope({ ...base, event_time: clock, span_id: callSpan, parent_span_id: spanId }),
          event_kind: kindStart,
          name,
          status: null,
          duration_ms: null,
          payload_bytes: Math.floor(random() * 4000),
          attributes: attrs,
        });
        if (!isTool) {
          rows.agent_events.push({
            ...envelope({
              ...base,
              event_time: clock + Math.floor(ttftMs * 1000),
              span_id: callSpan,
              parent_span_id: spanId,
            }),
            event_kind: "LLM_FIRST_TOKEN",
            name,
            status: null,
            duration_ms: ttftMs,
            payload_bytes: null,
            attributes: attrs,
          });
        }
        const endUs = clock + Math.floor(callMs * 1000);
        rows.agent_events.push({
          ...envelope({ ...base, event_time: endUs, span_id: callSpan, parent_span_id: spanId }),
          event_kind: kindEnd,
          name,
          status: "ok",
          duration_ms: callMs,
          payload_bytes: Math.floor(random() * 20000),
          attributes: attrs,
        });
        rows.spans.push({
          ...envelope({ ...base, event_time: clock, span_id: callSpan, parent_span_id: spanId }),
          name: isTool ? `tool ${name}` : `llm ${name}`,
          kind: "CLIENT",
          start_time: clock,
          end_time: endUs,
          status_code: "OK",
          status_message: null,
          attributes: attrs,
          events: [],
          links: [],
        });
        if (isTool) toolMs += callMs;
        else llmMs += callMs;
        clock = endUs + 2_000;
      }
      const durationMs = (clock - startUs) / 1000;
      const lifecycle = (kind: string, at: number, extra: Record<string, unknown>): void => {
        rows.agent_executions.push({
          ...envelope({ ...base, event_time: at, span_id: spanId, parent_span_id: parentSpanId }),
          lifecycle: kind,
          status:
            kind === "STARTED" ? "running" : kind === "UPDATED" ? "waiting_for_tool" : kind.toLowerCase(),
          parent_execution_id: parent?.executionId ?? null,
          input_summary: kind === "STARTED" ? `task ${hex(12)} for ${agent}` : null,
          result_summary: kind === "COMPLETED" ? `result ${hex(16)}` : null,
          error_message: null,
          duration_ms: null,
          ...extra,
        });
      };
      lifecycle("STARTED", startUs, {});
      lifecycle("UPDATED", startUs + 500, {});
      lifecycle(failed ? "FAILED" : "COMPLETED", clock, {
        duration_ms: durationMs,
        ...(failed ? { error_message: "tool call timed out" } : {}),
      });
      rows.performance_metrics.push({
        ...envelope({ ...base, event_time: clock, span_id: spanId }),
        initialization_ms: 1 + random() * 20,
        tool_execution_ms: toolMs,
        llm_processing_ms: llmMs,
        websocket_notification_ms: random() * 5,
        total_ms: durationMs,
        time_to_first_token_ms: llmMs > 0 ? ttftMs : null,
        queue_wait_ms: random() * 50,
        database_query_ms: random() < 0.3 ? random() * 80 : null,
        external_api_ms: toolMs > 0 ? toolMs * 0.8 : null,
        websocket_latency_ms: random() * 3,
        prompt_tokens: Math.floor(random() * 4000),
        completion_tokens: Math.floor(random() * 800),
      });
      rows.spans.push({
        ...envelope({ ...base, event_time: startUs, span_id: spanId, parent_span_id: parentSpanId }),
        name: `agent ${agent}`,
        kind: parent === null ? "SERVER" : "INTERNAL",
        start_time: startUs,
        end_time: clock,
        status_code: failed ? "ERROR" : "OK",
        status_message: failed ? "tool call timed out" : null,
        attributes: { "agent.name": agent },
        events: [{ name: "started", time: startUs, attributes: {} }],
        links: [],
      });
      if (parent !== null) {
        rows.trace_correlations.push({
          ...envelope({
            ...base,
            execution_id: parent.executionId,
            agent_name: parent.agent,
            event_time: startUs,
            span_id: parentSpanId ?? hex(8),
          }),
          parent_execution_id: parent.executionId,
          child_execution_id: executionId,
          child_span_id: spanId,
          child_agent_name: agent,
          relationship: "SUBAGENT",
        });
      }
      if (failed) {
        rows.error_logs.push({
          ...envelope({ ...base, event_time: clock - 1_000, span_id: spanId }),
          error_class: "ToolTimeoutError",
          message: `tool call timed out after ${Math.floor(random() * 30)}s`,
          stack: "ToolTimeoutError: tool call timed out\n    at callTool (agent.ts:42:11)",
          code: "ETIMEDOUT",
          retriable: true,
          phase: "tool_execution",
          severity: "ERROR",
        });
      }
      return { executionId, agent, spanId };
    }
  }
  return rows;
}

export function countRows(rows: TraceRows): number {
  return Object.values(rows).reduce((sum: number, list: Row[]) => sum + list.length, 0);
}
