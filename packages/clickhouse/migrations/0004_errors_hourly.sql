-- Errors per agent, class and hour. Counts are uniqExact states over event_id (and trace/execution ids),
-- first/last seen are min/max and the sample message an argMax: all idempotent, so duplicates collapse.

CREATE TABLE IF NOT EXISTS {{database}}.errors_hourly{{on_cluster}}
(
    hour DateTime('UTC') CODEC(Delta(4), ZSTD(1)),
    agent_name LowCardinality(String),
    error_class LowCardinality(String),
    severity LowCardinality(String),
    errors AggregateFunction(uniqExact, String),
    retriable_errors AggregateFunction(uniqExact, String),
    traces AggregateFunction(uniqExact, String),
    executions AggregateFunction(uniqExact, String),
    first_seen SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_seen SimpleAggregateFunction(max, DateTime64(6, 'UTC')),
    sample_message AggregateFunction(argMax, String, Tuple(DateTime64(6, 'UTC'), String))
)
ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, agent_name, error_class, severity)
{{ttl:hour}}
{{settings}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.errors_hourly_mv{{on_cluster}}
TO {{database}}.errors_hourly
AS SELECT
    toStartOfHour(event_time) AS hour,
    agent_name,
    error_class,
    severity,
    uniqExactState(event_id) AS errors,
    uniqExactIfState(event_id, retriable) AS retriable_errors,
    uniqExactState(trace_id) AS traces,
    uniqExactIfState(execution_id, execution_id != '') AS executions,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen,
    argMaxState(message, (event_time, event_id)) AS sample_message
FROM {{database}}.error_logs
GROUP BY hour, agent_name, error_class, severity;

CREATE VIEW IF NOT EXISTS {{database}}.error_summary_hourly{{on_cluster}}
AS SELECT
    hour,
    agent_name,
    error_class,
    severity,
    uniqExactMerge(errors) AS errors,
    uniqExactMerge(retriable_errors) AS retriable_errors,
    uniqExactMerge(traces) AS traces,
    uniqExactMerge(executions) AS executions,
    min(first_seen) AS first_seen,
    max(last_seen) AS last_seen,
    argMaxMerge(sample_message) AS sample_message
FROM {{database}}.errors_hourly
GROUP BY hour, agent_name, error_class, severity;
