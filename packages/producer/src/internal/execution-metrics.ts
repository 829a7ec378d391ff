import { EMPTY_METRICS } from "@tracehouse/schemas";
import type { RecordType } from "@tracehouse/schemas";
import type { TimingBreakdown } from "../ExecutionTimingCollector.js";
import type { MetricsInput, TokenUsage } from "../execution-options.js";
import type { EmitFields } from "../Producer.js";

/** The fields of an execution's performance-metrics record: given values, else the measured ones. */
export function metricsFields(
  breakdown: TimingBreakdown,
  given: MetricsInput,
): EmitFields<typeof RecordType.Metrics> {
  return {
    initialization_ms: given.initializationMs ?? breakdown.initializationMs,
    tool_execution_ms: given.toolExecutionMs ?? breakdown.toolExecutionMs,
    llm_processing_ms: given.llmProcessingMs ?? breakdown.llmProcessingMs,
    websocket_notification_ms: given.websocketNotificationMs ?? breakdown.websocketNotificationMs,
    total_ms: given.totalMs ?? breakdown.totalMs,
    time_to_first_token_ms: given.timeToFirstTokenMs ?? breakdown.timeToFirstTokenMs,
    queue_wait_ms: given.queueWaitMs ?? breakdown.queueWaitMs,
    database_query_ms: given.databaseQueryMs ?? breakdown.databaseQueryMs,
    external_api_ms: given.externalApiMs ?? breakdown.externalApiMs,
    websocket_latency_ms: given.websocketLatencyMs ?? breakdown.websocketLatencyMs,
    prompt_tokens: given.promptTokens ?? null,
    completion_tokens: given.completionTokens ?? null,
  };
}

/**
 * A metrics record of tokens alone, every phase zero: what sums over metrics records
 * (tokens per agent, phase totals) add for usage that arrived after the execution's
 * metrics record was sent. Its null time to first token keeps it out of those quantiles.
 */
export function usageMetricsFields(usage: TokenUsage): EmitFields<typeof RecordType.Metrics> {
  return Object.assign({}, EMPTY_METRICS, {
    prompt_tokens: usage.promptTokens ?? null,
    completion_tokens: usage.completionTokens ?? null,
  });
}

/** A token count plus another, either possibly unknown. */
export function addTokens(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : a + b;
}
