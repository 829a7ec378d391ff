-- Current state per execution. Every column is an idempotent aggregate (min, max, argMax, uniqExact),
-- so a lifecycle record delivered twice, in the same or another batch, changes nothing.
-- Ordering key of a lifecycle record: (STARTED 0 < UPDATED 1 < COMPLETED/FAILED 2, event_time, event_id).
-- Read through the executions_current view (or with the -Merge combinators, GROUP BY execution_id).

CREATE TABLE IF NOT EXISTS {{database}}.executions_state{{on_cluster}}
(
    trace_id String CODEC(ZSTD(1)),
    execution_id String CODEC(ZSTD(1)),
    first_seen SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_seen SimpleAggregateFunction(max, DateTime64(6, 'UTC')),
    ended_at SimpleAggregateFunction(max, Nullable(DateTime64(6, 'UTC'))),
    agent_name SimpleAggregateFunction(max, LowCardinality(String)),
    parent_execution_id SimpleAggregateFunction(max, String),
    user_id SimpleAggregateFunction(max, String),
    thread_id SimpleAggregateFunction(max, String),
    correlation_id SimpleAggregateFunction(max, String),
    span_id AggregateFunction(argMin, String, Tuple(UInt8, DateTime64(6, 'UTC'), String)),
    input_summary AggregateFunction(argMin, Nullable(String), Tuple(UInt8, DateTime64(6, 'UTC'), String)),
    lifecycle AggregateFunction(argMax, String, Tuple(UInt8, DateTime64(6, 'UTC'), String)),
    status AggregateFunction(argMax, String, Tuple(UInt8, DateTime64(6, 'UTC'), String)),
    result_summary AggregateFunction(argMax, Nullable(String), Tuple(UInt8, DateTime64(6, 'UTC'), String)),
    error_message AggregateFunction(argMax, Nullable(String), Tuple(UInt8, DateTime64(6, 'UTC'), String)),
    duration_ms AggregateFunction(argMax, Nullable(Float64), Tuple(UInt8, DateTime64(6, 'UTC'), String)),
    lifecycle_records AggregateFunction(uniqExact, String)
)
ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(first_seen)
ORDER BY (trace_id, execution_id)
{{ttl:toDateTime(first_seen)}}
{{settings}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.executions_state_mv{{on_cluster}}
TO {{database}}.executions_state
AS SELECT
    src.trace_id AS trace_id,
    src.execution_id AS execution_id,
    min(src.event_time) AS first_seen,
    max(src.event_time) AS last_seen,
    maxIf(toNullable(src.event_time), src.lifecycle IN ('COMPLETED', 'FAILED')) AS ended_at,
    max(src.agent_name) AS agent_name,
    max(src.parent_execution_id) AS parent_execution_id,
    max(src.user_id) AS user_id,
    max(src.thread_id) AS thread_id,
    max(src.correlation_id) AS correlation_id,
    argMinState(src.span_id, src.ord) AS span_id,
    argMinState(src.input_summary, src.ord) AS input_summary,
    argMaxState(toString(src.lifecycle), src.ord) AS lifecycle,
    argMaxState(toString(src.status), src.ord) AS status,
    argMaxState(src.result_summary, src.ord) AS result_summary,
    argMaxState(src.error_message, src.ord) AS error_message,
    argMaxState(src.duration_ms, src.ord) AS duration_ms,
    uniqExactState(src.event_id) AS lifecycle_records
FROM
(
    SELECT *, (toUInt8(multiIf(lifecycle = 'STARTED', 0, lifecycle = 'UPDATED', 1, 2)), event_time, event_id) AS ord
    FROM {{database}}.agent_executions
) AS src
GROUP BY trace_id, execution_id;

CREATE VIEW IF NOT EXISTS {{database}}.executions_current{{on_cluster}}
AS SELECT
    trace_id,
    execution_id,
    min(first_seen) AS started_at,
    max(last_seen) AS last_seen,
    max(ended_at) AS ended_at,
    max(agent_name) AS agent_name,
    max(parent_execution_id) AS parent_execution_id,
    max(user_id) AS user_id,
    max(thread_id) AS thread_id,
    max(correlation_id) AS correlation_id,
    argMinMerge(span_id) AS span_id,
    argMinMerge(input_summary) AS input_summary,
    argMaxMerge(lifecycle) AS lifecycle,
    argMaxMerge(status) AS status,
    argMaxMerge(result_summary) AS result_summary,
    argMaxMerge(error_message) AS error_message,
    argMaxMerge(duration_ms) AS duration_ms,
    uniqExactMerge(lifecycle_records) AS lifecycle_records
FROM {{database}}.executions_state
GROUP BY trace_id, execution_id;
