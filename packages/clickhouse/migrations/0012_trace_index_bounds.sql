-- trace_index keeps what the trace list filters and sorts on: a trace's time bounds, user and error
-- flag, all SimpleAggregateFunction columns. Its root and its span, execution, event and error counts
-- were aggregate states kept a second time beside execution_summary's (every event id hashed into
-- both); they cost the engine about 5 µs of CPU per inserted row, a sixth of what it spends. They are
-- now read from execution_summary, for the traces asked for (queries/trace-details.ts).
-- The six views feeding it are made anew without them (`_bounds_mv`), created before the old ones are
-- dropped, so rows inserted meanwhile still reach trace_index (twice at worst: every column is an
-- idempotent aggregate).

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.trace_index_executions_bounds_mv{{on_cluster}}
TO {{database}}.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id,
    max(toUInt8(lifecycle = 'FAILED')) AS has_error
FROM {{database}}.agent_executions
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.trace_index_events_bounds_mv{{on_cluster}}
TO {{database}}.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id
FROM {{database}}.agent_events
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.trace_index_metrics_bounds_mv{{on_cluster}}
TO {{database}}.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id
FROM {{database}}.performance_metrics
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.trace_index_correlations_bounds_mv{{on_cluster}}
TO {{database}}.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id
FROM {{database}}.trace_correlations
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.trace_index_errors_bounds_mv{{on_cluster}}
TO {{database}}.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id,
    max(toUInt8(severity != 'WARNING')) AS has_error
FROM {{database}}.error_logs
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.trace_index_spans_bounds_mv{{on_cluster}}
TO {{database}}.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    greatest(max(src.event_time), max(src.end_time)) AS end_time,
    max(user_id) AS user_id,
    max(toUInt8(status_code = 'ERROR')) AS has_error
FROM {{database}}.spans AS src
GROUP BY trace_id;

DROP TABLE IF EXISTS {{database}}.trace_index_executions_mv{{on_cluster}};

DROP TABLE IF EXISTS {{database}}.trace_index_events_mv{{on_cluster}};

DROP TABLE IF EXISTS {{database}}.trace_index_metrics_mv{{on_cluster}};

DROP TABLE IF EXISTS {{database}}.trace_index_correlations_mv{{on_cluster}};

DROP TABLE IF EXISTS {{database}}.trace_index_errors_mv{{on_cluster}};

DROP TABLE IF EXISTS {{database}}.trace_index_spans_mv{{on_cluster}};

DROP VIEW IF EXISTS {{database}}.traces{{on_cluster}};

ALTER TABLE {{database}}.trace_index{{on_cluster}}
    DROP COLUMN IF EXISTS root, DROP COLUMN IF EXISTS spans, DROP COLUMN IF EXISTS executions,
    DROP COLUMN IF EXISTS events, DROP COLUMN IF EXISTS errors;
{{#cluster}}

ALTER TABLE {{database}}.trace_index_all{{on_cluster}}
    DROP COLUMN IF EXISTS root, DROP COLUMN IF EXISTS spans, DROP COLUMN IF EXISTS executions,
    DROP COLUMN IF EXISTS events, DROP COLUMN IF EXISTS errors;
{{/cluster}}

-- One row per trace: its bounds, user and error flag from trace_index; its root agent and counts from
-- execution_summary (an execution counts once it has a lifecycle record, as in the trace list).
CREATE VIEW IF NOT EXISTS {{database}}.traces{{on_cluster}}
AS SELECT
    i.trace_id AS trace_id,
    i.start_time AS start_time,
    i.end_time AS end_time,
    i.user_id AS user_id,
    i.has_error AS has_error,
    s.root AS root,
    s.span_count AS span_count,
    s.execution_count AS execution_count,
    s.event_count AS event_count,
    s.error_count AS error_count
FROM (
    SELECT trace_id, min(start_time) AS start_time, max(end_time) AS end_time, max(user_id) AS user_id,
           max(has_error) AS has_error
    FROM {{database}}.trace_index
    GROUP BY trace_id
) AS i
LEFT JOIN (
    SELECT trace_id, argMinMerge(root) AS root, sum(spans) AS span_count,
           countIf(lifecycle != '') AS execution_count, sum(events) AS event_count, sum(errors) AS error_count
    FROM (
        SELECT trace_id, execution_id, argMinMergeState(root) AS root, argMaxMerge(lifecycle) AS lifecycle,
               uniqExactMerge(spans) AS spans, uniqExactMerge(events) AS events, uniqExactMerge(errors) AS errors
        FROM {{database}}.execution_summary
        GROUP BY trace_id, execution_id
    )
    GROUP BY trace_id
) AS s ON s.trace_id = i.trace_id;
