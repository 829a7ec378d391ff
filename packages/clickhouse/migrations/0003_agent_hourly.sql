-- Per agent and hour: executions, failures, latency and time-to-first-token quantiles, phase-time sums.
-- Quantiles and sums of duplicated input cannot be made idempotent inside an aggregate state, so the
-- materialized views project each record once into agent_hourly_facts, a narrow ReplacingMergeTree keyed
-- by event_id (duplicates collapse), and agent_stats_hourly aggregates it FINAL at query time.

CREATE TABLE IF NOT EXISTS {{database}}.agent_hourly_facts{{on_cluster}}
(
    agent_name LowCardinality(String),
    hour DateTime('UTC') CODEC(Delta(4), ZSTD(1)),
    event_id String CODEC(ZSTD(1)),
    event_time DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
    source LowCardinality(String),
    trace_id String CODEC(ZSTD(1)),
    execution_id String CODEC(ZSTD(1)),
    lifecycle LowCardinality(String),
    status LowCardinality(String),
    duration_ms Nullable(Float64) CODEC(ZSTD(1)),
    time_to_first_token_ms Nullable(Float64) CODEC(ZSTD(1)),
    initialization_ms Nullable(Float64) CODEC(ZSTD(1)),
    tool_execution_ms Nullable(Float64) CODEC(ZSTD(1)),
    llm_processing_ms Nullable(Float64) CODEC(ZSTD(1)),
    websocket_notification_ms Nullable(Float64) CODEC(ZSTD(1)),
    total_ms Nullable(Float64) CODEC(ZSTD(1)),
    queue_wait_ms Nullable(Float64) CODEC(ZSTD(1)),
    database_query_ms Nullable(Float64) CODEC(ZSTD(1)),
    external_api_ms Nullable(Float64) CODEC(ZSTD(1)),
    prompt_tokens Nullable(Int64) CODEC(ZSTD(1)),
    completion_tokens Nullable(Int64) CODEC(ZSTD(1))
)
ENGINE = {{engine:ReplacingMergeTree}}
PARTITION BY toYYYYMM(hour)
ORDER BY (agent_name, hour, event_id)
{{ttl:hour}}
{{settings}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.agent_hourly_executions_mv{{on_cluster}}
TO {{database}}.agent_hourly_facts
AS SELECT
    agent_name,
    toStartOfHour(event_time) AS hour,
    event_id,
    event_time,
    'execution' AS source,
    trace_id,
    execution_id,
    lifecycle,
    status,
    duration_ms
FROM {{database}}.agent_executions
WHERE lifecycle != 'UPDATED';

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.agent_hourly_metrics_mv{{on_cluster}}
TO {{database}}.agent_hourly_facts
AS SELECT
    agent_name,
    toStartOfHour(event_time) AS hour,
    event_id,
    event_time,
    'metrics' AS source,
    trace_id,
    execution_id,
    time_to_first_token_ms,
    initialization_ms,
    tool_execution_ms,
    llm_processing_ms,
    websocket_notification_ms,
    total_ms,
    queue_wait_ms,
    database_query_ms,
    external_api_ms,
    prompt_tokens,
    completion_tokens
FROM {{database}}.performance_metrics;

CREATE VIEW IF NOT EXISTS {{database}}.agent_stats_hourly{{on_cluster}}
AS SELECT
    agent_name,
    hour,
    uniqExactIf(execution_id, source = 'execution' AND lifecycle = 'STARTED') AS started,
    uniqExactIf(execution_id, source = 'execution' AND lifecycle IN ('COMPLETED', 'FAILED')) AS finished,
    uniqExactIf(execution_id, source = 'execution' AND lifecycle = 'FAILED') AS failures,
    quantilesExactIf(0.5, 0.95, 0.99)(duration_ms, source = 'execution' AND lifecycle IN ('COMPLETED', 'FAILED')) AS latency_ms_p50_p95_p99,
    quantilesExactIf(0.5, 0.95, 0.99)(time_to_first_token_ms, source = 'metrics') AS ttft_ms_p50_p95_p99,
    sumIf(initialization_ms, source = 'metrics') AS initialization_ms_sum,
    sumIf(tool_execution_ms, source = 'metrics') AS tool_execution_ms_sum,
    sumIf(llm_processing_ms, source = 'metrics') AS llm_processing_ms_sum,
    sumIf(websocket_notification_ms, source = 'metrics') AS websocket_notification_ms_sum,
    sumIf(total_ms, source = 'metrics') AS total_ms_sum,
    sumIf(queue_wait_ms, source = 'metrics') AS queue_wait_ms_sum,
    sumIf(database_query_ms, source = 'metrics') AS database_query_ms_sum,
    sumIf(external_api_ms, source = 'metrics') AS external_api_ms_sum,
    sumIf(prompt_tokens, source = 'metrics') AS prompt_tokens_sum,
    sumIf(completion_tokens, source = 'metrics') AS completion_tokens_sum
FROM {{database}}.agent_hourly_facts FINAL
GROUP BY agent_name, hour;
