import { RecordTable, TABLE_COLUMNS } from "./projection.js";

export const SchemaObjectKind = {
  Table: "table",
  MaterializedView: "materialized_view",
  View: "view",
} as const;
export type SchemaObjectKind = (typeof SchemaObjectKind)[keyof typeof SchemaObjectKind];

export interface SchemaObject {
  readonly name: string;
  readonly kind: SchemaObjectKind;
  readonly columns: readonly string[];
  readonly indexes: readonly string[];
}

export const MIGRATIONS_TABLE = "schema_migrations";

const RECORD_INDEXES = ["idx_trace_id", "idx_user_id", "idx_correlation_id"] as const;

const table = (name: string, columns: readonly string[], indexes: readonly string[] = []): SchemaObject => ({
  name,
  kind: SchemaObjectKind.Table,
  columns,
  indexes,
});
const view = (name: string, columns: readonly string[]): SchemaObject => ({
  name,
  kind: SchemaObjectKind.View,
  columns,
  indexes: [],
});
const materializedView = (name: string): SchemaObject => ({
  name,
  kind: SchemaObjectKind.MaterializedView,
  columns: [],
  indexes: [],
});

const EXECUTION_STATE_COLUMNS = [
  "trace_id",
  "execution_id",
  "agent_name",
  "parent_execution_id",
  "user_id",
  "thread_id",
  "correlation_id",
  "span_id",
  "input_summary",
  "lifecycle",
  "status",
  "result_summary",
  "error_message",
  "duration_ms",
  "lifecycle_records",
];

const PHASE_COLUMNS = [
  "initialization_ms",
  "tool_execution_ms",
  "llm_processing_ms",
  "websocket_notification_ms",
  "total_ms",
  "queue_wait_ms",
  "database_query_ms",
  "external_api_ms",
  "prompt_tokens",
  "completion_tokens",
];

const ERROR_COUNT_COLUMNS = [
  "hour",
  "agent_name",
  "error_class",
  "severity",
  "errors",
  "retriable_errors",
  "traces",
  "executions",
  "first_seen",
  "last_seen",
  "sample_message",
];

/** Every object the migrations create, as verifySchema expects to find it. */
export const SCHEMA_OBJECTS: readonly SchemaObject[] = [
  table(MIGRATIONS_TABLE, ["version", "name", "checksum", "applied_at"]),
  ...Object.values(RecordTable).map((name) => table(name, TABLE_COLUMNS[name], RECORD_INDEXES)),
  table("executions_state", [...EXECUTION_STATE_COLUMNS, "first_seen", "last_seen", "ended_at"]),
  materializedView("executions_state_mv"),
  view("executions_current", [...EXECUTION_STATE_COLUMNS, "started_at", "last_seen", "ended_at"]),
  table("agent_hourly_facts", [
    "agent_name",
    "hour",
    "event_id",
    "event_time",
    "source",
    "trace_id",
    "execution_id",
    "lifecycle",
    "status",
    "duration_ms",
    "time_to_first_token_ms",
    ...PHASE_COLUMNS,
  ]),
  materializedView("agent_hourly_executions_mv"),
  materializedView("agent_hourly_metrics_mv"),
  view("agent_stats_hourly", [
    "agent_name",
    "hour",
    "started",
    "finished",
    "failures",
    "latency_ms_p50_p95_p99",
    "ttft_ms_p50_p95_p99",
    ...PHASE_COLUMNS.map((column) => `${column}_sum`),
  ]),
  table("errors_hourly", ERROR_COUNT_COLUMNS),
  materializedView("errors_hourly_mv"),
  view("error_summary_hourly", ERROR_COUNT_COLUMNS),
  table("trace_index", ["trace_id", "start_time", "end_time", "user_id", "has_error"], ["idx_user_id"]),
  ...["executions", "events", "metrics", "correlations", "errors", "spans"].map((source) =>
    materializedView(`trace_index_${source}_bounds_mv`),
  ),
  view("traces", [
    "trace_id",
    "start_time",
    "end_time",
    "user_id",
    "has_error",
    "root",
    "span_count",
    "execution_count",
    "event_count",
    "error_count",
  ]),
  table("execution_summary", [
    "hour",
    "trace_id",
    "execution_id",
    "agent_name",
    "thread_id",
    "lifecycle",
    "root",
    "events",
    "errors",
    "spans",
    "metrics",
    "models",
    "llm_calls",
    "cached",
  ]),
  ...["executions", "events", "metrics", "errors", "spans"].map((source) =>
    materializedView(`execution_summary_${source}_mv`),
  ),
  table("model_prices", [
    "generation",
    "model",
    "input_per_million",
    "output_per_million",
    "cached_input_per_million",
  ]),
  view("model_prices_current", [
    "model",
    "input_per_million",
    "output_per_million",
    "cached_input_per_million",
  ]),
];
