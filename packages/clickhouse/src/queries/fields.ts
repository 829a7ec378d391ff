/**
 * The phase timings and token counts of a performance-metrics record, once: their column, the
 * key they take in `PhaseSums`, and whether they are tokens (summed as integers) or milliseconds.
 */
export const METRIC_FIELDS = [
  { column: "initialization_ms", key: "initializationMs" },
  { column: "tool_execution_ms", key: "toolExecutionMs" },
  { column: "llm_processing_ms", key: "llmProcessingMs" },
  { column: "websocket_notification_ms", key: "websocketNotificationMs" },
  { column: "total_ms", key: "totalMs" },
  { column: "queue_wait_ms", key: "queueWaitMs" },
  { column: "database_query_ms", key: "databaseQueryMs" },
  { column: "external_api_ms", key: "externalApiMs" },
  { column: "prompt_tokens", key: "promptTokens" },
  { column: "completion_tokens", key: "completionTokens" },
] as const;

export type MetricKey = (typeof METRIC_FIELDS)[number]["key"];

/** Sums of the phase timings (ms) and tokens of performance-metrics records. */
export type PhaseSums = { readonly [K in MetricKey]: number };

/**
 * Identity fields every record carries, stored '' for null: their column and their key in the
 * domain objects. Filters and converters are built from this list.
 */
export const IDENTITY_FIELDS = [
  { column: "trace_id", key: "traceId" },
  { column: "execution_id", key: "executionId" },
  { column: "agent_name", key: "agentName" },
  { column: "user_id", key: "userId" },
  { column: "thread_id", key: "threadId" },
  { column: "correlation_id", key: "correlationId" },
] as const;

export type IdentityKey = (typeof IDENTITY_FIELDS)[number]["key"];
