-- Trace index: trace id -> time range, root agent, counts, error flag, user. Fed by every record table,
-- all columns idempotent aggregates. A trace lookup reads this first and then queries the record tables
-- with event_time BETWEEN the trace's bounds plus trace_id, touching only the partitions it needs.

CREATE TABLE IF NOT EXISTS {{database}}.trace_index{{on_cluster}}
(
    trace_id String CODEC(ZSTD(1)),
    start_time SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    end_time SimpleAggregateFunction(max, DateTime64(6, 'UTC')),
    user_id SimpleAggregateFunction(max, String),
    has_error SimpleAggregateFunction(max, UInt8),
    root AggregateFunction(argMin, Tuple(String, String), Tuple(UInt8, DateTime64(6, 'UTC'), String)),
    spans AggregateFunction(uniqExact, String),
    executions AggregateFunction(uniqExact, String),
    events AggregateFunction(uniqExact, String),
    errors AggregateFunction(uniqExact, String),
    INDEX idx_user_id user_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(start_time)
ORDER BY trace_id
{{ttl:toDateTime(start_time)}}
{{settings}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.trace_index_executions_mv{{on_cluster}}
TO {{database}}.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id,
    max(toUInt8(lifecycle = 'FAILED')) AS has_error,
    argMinState((toString(agent_name), execution_id), (toUInt8(parent_execution_id != ''), event_time, event_id)) AS root,
    uniqExactState(execution_id) AS executions
FROM {{database}}.agent_executions
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.trace_index_events_mv{{on_cluster}}
TO {{database}}.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id,
    uniqExactState(event_id) AS events
FROM {{database}}.agent_events
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.trace_index_metrics_mv{{on_cluster}}
TO {{database}}.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id
FROM {{database}}.performance_metrics
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.trace_index_correlations_mv{{on_cluster}}
TO {{database}}.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id
FROM {{database}}.trace_correlations
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.trace_index_errors_mv{{on_cluster}}
TO {{database}}.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id,
    max(toUInt8(severity != 'WARNING')) AS has_error,
    uniqExactState(event_id) AS errors
FROM {{database}}.error_logs
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.trace_index_spans_mv{{on_cluster}}
TO {{database}}.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    greatest(max(src.event_time), max(src.end_time)) AS end_time,
    max(user_id) AS user_id,
    max(toUInt8(status_code = 'ERROR')) AS has_error,
    argMinIfState((toString(agent_name), execution_id), (toUInt8(0), event_time, event_id), parent_span_id = '') AS root,
    uniqExactState(span_id) AS spans
FROM {{database}}.spans AS src
GROUP BY trace_id;

CREATE VIEW IF NOT EXISTS {{database}}.traces{{on_cluster}}
AS SELECT
    trace_id,
    min(start_time) AS start_time,
    max(end_time) AS end_time,
    max(user_id) AS user_id,
    max(has_error) AS has_error,
    argMinMerge(root) AS root,
    uniqExactMerge(spans) AS span_count,
    uniqExactMerge(executions) AS execution_count,
    uniqExactMerge(events) AS event_count,
    uniqExactMerge(errors) AS error_count
FROM {{database}}.trace_index
GROUP BY trace_id;
