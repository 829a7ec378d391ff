import type { RecordType } from "./record-type.js";

/** Free-form string key/values (Avro `map<string>`). */
export type StringMap = Readonly<Record<string, string>>;

/** Fields every record starts with, in this order. Times are epoch microseconds. */
export interface Envelope {
  /** UUIDv7; the deduplication key. */
  readonly event_id: string;
  /** When the fact happened, microseconds since the Unix epoch. */
  readonly event_time: number;
  /** 32 lowercase hex characters; the Kafka message key. */
  readonly trace_id: string;
  /** 16 lowercase hex characters. */
  readonly span_id: string;
  readonly parent_span_id: string | null;
  readonly correlation_id: string | null;
  readonly user_id: string | null;
  readonly thread_id: string | null;
  readonly execution_id: string | null;
  readonly agent_name: string | null;
  readonly metadata: StringMap;
}

/** Envelope field names in schema order. */
export const ENVELOPE_FIELDS = [
  "event_id",
  "event_time",
  "trace_id",
  "span_id",
  "parent_span_id",
  "correlation_id",
  "user_id",
  "thread_id",
  "execution_id",
  "agent_name",
  "metadata",
] as const satisfies readonly (keyof Envelope)[];

export const ExecutionLifecycle = {
  Started: "STARTED",
  Updated: "UPDATED",
  Completed: "COMPLETED",
  Failed: "FAILED",
} as const;
export type ExecutionLifecycle = (typeof ExecutionLifecycle)[keyof typeof ExecutionLifecycle];

/** "execution": one record per lifecycle step of an agent run. */
export interface ExecutionRecord extends Envelope {
  readonly lifecycle: ExecutionLifecycle;
  /** Free-form state, e.g. running, waiting_for_tool, completed, failed. */
  readonly status: string;
  readonly parent_execution_id: string | null;
  readonly input_summary: string | null;
  readonly result_summary: string | null;
  readonly error_message: string | null;
  /** Milliseconds since STARTED. */
  readonly duration_ms: number | null;
  /** The execution this one retries (schema v2; null when read from v1 bytes). */
  readonly retry_of_execution_id: string | null;
}

export const AgentEventKind = {
  WebsocketNotification: "WEBSOCKET_NOTIFICATION",
  ToolCallStart: "TOOL_CALL_START",
  ToolCallEnd: "TOOL_CALL_END",
  LlmCallStart: "LLM_CALL_START",
  LlmFirstToken: "LLM_FIRST_TOKEN",
  LlmCallEnd: "LLM_CALL_END",
  Custom: "CUSTOM",
} as const;
export type AgentEventKind = (typeof AgentEventKind)[keyof typeof AgentEventKind];

/** "event": a WebSocket notification, tool call, LLM call or custom event. */
export interface AgentEventRecord extends Envelope {
  readonly event_kind: AgentEventKind;
  /** Tool name, model, channel or custom event name. */
  readonly name: string;
  readonly status: string | null;
  readonly duration_ms: number | null;
  readonly payload_bytes: number | null;
  readonly attributes: StringMap;
}

/** "metrics": phase timings of one execution, all in milliseconds. */
export interface PerformanceMetricsRecord extends Envelope {
  readonly initialization_ms: number;
  readonly tool_execution_ms: number;
  readonly llm_processing_ms: number;
  readonly websocket_notification_ms: number;
  readonly total_ms: number;
  readonly time_to_first_token_ms: number | null;
  readonly queue_wait_ms: number | null;
  readonly database_query_ms: number | null;
  readonly external_api_ms: number | null;
  readonly websocket_latency_ms: number | null;
  readonly prompt_tokens: number | null;
  readonly completion_tokens: number | null;
}

/** A metrics record's own fields with nothing measured: every phase zero, the optional timings and the tokens null. */
export const EMPTY_METRICS: Readonly<Omit<PerformanceMetricsRecord, keyof Envelope>> = Object.freeze({
  initialization_ms: 0,
  tool_execution_ms: 0,
  llm_processing_ms: 0,
  websocket_notification_ms: 0,
  total_ms: 0,
  time_to_first_token_ms: null,
  queue_wait_ms: null,
  database_query_ms: null,
  external_api_ms: null,
  websocket_latency_ms: null,
  prompt_tokens: null,
  completion_tokens: null,
});

export const CorrelationRelationship = {
  Subagent: "SUBAGENT",
  Tool: "TOOL",
  Handoff: "HANDOFF",
  FollowsFrom: "FOLLOWS_FROM",
  Retry: "RETRY",
} as const;
export type CorrelationRelationship = (typeof CorrelationRelationship)[keyof typeof CorrelationRelationship];

/** "correlation": a parent → child link; the envelope describes the parent side. */
export interface TraceCorrelationRecord extends Envelope {
  readonly parent_execution_id: string;
  readonly child_execution_id: string;
  readonly child_span_id: string;
  readonly child_agent_name: string | null;
  readonly relationship: CorrelationRelationship;
}

export const ErrorSeverity = {
  Warning: "WARNING",
  Error: "ERROR",
  Fatal: "FATAL",
} as const;
export type ErrorSeverity = (typeof ErrorSeverity)[keyof typeof ErrorSeverity];

/** "error": a structured error log. */
export interface ErrorLogRecord extends Envelope {
  readonly error_class: string;
  readonly message: string;
  readonly stack: string | null;
  readonly code: string | null;
  readonly retriable: boolean;
  readonly phase: string | null;
  readonly severity: ErrorSeverity;
}

export const SpanKind = {
  Internal: "INTERNAL",
  Server: "SERVER",
  Client: "CLIENT",
  Producer: "PRODUCER",
  Consumer: "CONSUMER",
} as const;
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind];

export const SpanStatusCode = {
  Unset: "UNSET",
  Ok: "OK",
  Error: "ERROR",
} as const;
export type SpanStatusCode = (typeof SpanStatusCode)[keyof typeof SpanStatusCode];

export interface SpanEvent {
  readonly name: string;
  /** Microseconds since the Unix epoch. */
  readonly time: number;
  readonly attributes: StringMap;
}

export interface SpanLink {
  readonly trace_id: string;
  readonly span_id: string;
  readonly attributes: StringMap;
}

/** "span": an OpenTelemetry span; start_time/end_time in epoch microseconds. */
export interface SpanRecord extends Envelope {
  readonly name: string;
  readonly kind: SpanKind;
  readonly start_time: number;
  readonly end_time: number;
  readonly status_code: SpanStatusCode;
  readonly status_message: string | null;
  readonly attributes: StringMap;
  readonly events: readonly SpanEvent[];
  readonly links: readonly SpanLink[];
}

export interface RecordTypeMap {
  readonly execution: ExecutionRecord;
  readonly event: AgentEventRecord;
  readonly metrics: PerformanceMetricsRecord;
  readonly correlation: TraceCorrelationRecord;
  readonly error: ErrorLogRecord;
  readonly span: SpanRecord;
}

export type RecordOf<T extends RecordType> = RecordTypeMap[T];

/** A record tagged with its type: `switch (r.type)` narrows `r.record`. */
export type TracehouseRecord = {
  readonly [T in RecordType]: { readonly type: T; readonly record: RecordOf<T> };
}[RecordType];

/** Fields the schema gives a default (nullable fields, maps, arrays); encoding fills them in when absent. */
export type DefaultedKeys<R> = {
  [K in keyof R]-?: null extends R[K]
    ? K
    : R[K] extends readonly unknown[]
      ? K
      : R[K] extends StringMap
        ? K
        : never;
}[keyof R];

/** What `encodeRecord` accepts: the record with its defaulted fields optional. */
export type RecordInput<R> = {
  readonly [K in Exclude<keyof R, DefaultedKeys<R>>]: R[K];
} & {
  readonly [K in DefaultedKeys<R>]?: R[K];
};

export type RecordInputOf<T extends RecordType> = RecordInput<RecordOf<T>>;
