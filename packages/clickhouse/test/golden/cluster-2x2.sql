-- 0 bootstrap
CREATE DATABASE IF NOT EXISTS tracehouse ON CLUSTER 'tracehouse_2x2';

CREATE TABLE IF NOT EXISTS tracehouse.schema_migrations ON CLUSTER 'tracehouse_2x2'
(
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY version
SETTINGS index_granularity = 8192, replicated_deduplication_window = 1000;

-- 1 base_tables
CREATE TABLE IF NOT EXISTS tracehouse.agent_executions ON CLUSTER 'tracehouse_2x2'
(
    event_id String CODEC(ZSTD(1)),
    event_time DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    parent_span_id String DEFAULT '' CODEC(ZSTD(1)),
    correlation_id String DEFAULT '' CODEC(ZSTD(1)),
    user_id String DEFAULT '' CODEC(ZSTD(1)),
    thread_id String DEFAULT '' CODEC(ZSTD(1)),
    execution_id String DEFAULT '' CODEC(ZSTD(1)),
    agent_name LowCardinality(String) DEFAULT '',
    metadata Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    lifecycle LowCardinality(String),
    status LowCardinality(String),
    parent_execution_id String DEFAULT '' CODEC(ZSTD(1)),
    input_summary Nullable(String) CODEC(ZSTD(3)),
    result_summary Nullable(String) CODEC(ZSTD(3)),
    error_message Nullable(String) CODEC(ZSTD(3)),
    duration_ms Nullable(Float64) CODEC(ZSTD(1)),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_user_id user_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_correlation_id correlation_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(event_time)
ORDER BY (agent_name, toStartOfHour(event_time), execution_id, event_id)
TTL toDateTime(event_time) + INTERVAL 90 DAY
SETTINGS index_granularity = 8192, replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS tracehouse.agent_events ON CLUSTER 'tracehouse_2x2'
(
    event_id String CODEC(ZSTD(1)),
    event_time DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    parent_span_id String DEFAULT '' CODEC(ZSTD(1)),
    correlation_id String DEFAULT '' CODEC(ZSTD(1)),
    user_id String DEFAULT '' CODEC(ZSTD(1)),
    thread_id String DEFAULT '' CODEC(ZSTD(1)),
    execution_id String DEFAULT '' CODEC(ZSTD(1)),
    agent_name LowCardinality(String) DEFAULT '',
    metadata Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    event_kind LowCardinality(String),
    name LowCardinality(String),
    status LowCardinality(Nullable(String)),
    duration_ms Nullable(Float64) CODEC(ZSTD(1)),
    payload_bytes Nullable(Int64) CODEC(ZSTD(1)),
    attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_user_id user_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_correlation_id correlation_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(event_time)
ORDER BY (toStartOfHour(event_time), trace_id, event_id)
TTL toDateTime(event_time) + INTERVAL 90 DAY
SETTINGS index_granularity = 8192, replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS tracehouse.performance_metrics ON CLUSTER 'tracehouse_2x2'
(
    event_id String CODEC(ZSTD(1)),
    event_time DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    parent_span_id String DEFAULT '' CODEC(ZSTD(1)),
    correlation_id String DEFAULT '' CODEC(ZSTD(1)),
    user_id String DEFAULT '' CODEC(ZSTD(1)),
    thread_id String DEFAULT '' CODEC(ZSTD(1)),
    execution_id String DEFAULT '' CODEC(ZSTD(1)),
    agent_name LowCardinality(String) DEFAULT '',
    metadata Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    initialization_ms Float64 CODEC(ZSTD(1)),
    tool_execution_ms Float64 CODEC(ZSTD(1)),
    llm_processing_ms Float64 CODEC(ZSTD(1)),
    websocket_notification_ms Float64 CODEC(ZSTD(1)),
    total_ms Float64 CODEC(ZSTD(1)),
    time_to_first_token_ms Nullable(Float64) CODEC(ZSTD(1)),
    queue_wait_ms Nullable(Float64) CODEC(ZSTD(1)),
    database_query_ms Nullable(Float64) CODEC(ZSTD(1)),
    external_api_ms Nullable(Float64) CODEC(ZSTD(1)),
    websocket_latency_ms Nullable(Float64) CODEC(ZSTD(1)),
    prompt_tokens Nullable(Int64) CODEC(ZSTD(1)),
    completion_tokens Nullable(Int64) CODEC(ZSTD(1)),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_user_id user_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_correlation_id correlation_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(event_time)
ORDER BY (agent_name, toStartOfHour(event_time), execution_id, event_id)
TTL toDateTime(event_time) + INTERVAL 90 DAY
SETTINGS index_granularity = 8192, replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS tracehouse.trace_correlations ON CLUSTER 'tracehouse_2x2'
(
    event_id String CODEC(ZSTD(1)),
    event_time DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    parent_span_id String DEFAULT '' CODEC(ZSTD(1)),
    correlation_id String DEFAULT '' CODEC(ZSTD(1)),
    user_id String DEFAULT '' CODEC(ZSTD(1)),
    thread_id String DEFAULT '' CODEC(ZSTD(1)),
    execution_id String DEFAULT '' CODEC(ZSTD(1)),
    agent_name LowCardinality(String) DEFAULT '',
    metadata Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    parent_execution_id String CODEC(ZSTD(1)),
    child_execution_id String CODEC(ZSTD(1)),
    child_span_id String CODEC(ZSTD(1)),
    child_agent_name LowCardinality(String) DEFAULT '',
    relationship LowCardinality(String),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_user_id user_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_correlation_id correlation_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(event_time)
ORDER BY (toStartOfHour(event_time), trace_id, event_id)
TTL toDateTime(event_time) + INTERVAL 90 DAY
SETTINGS index_granularity = 8192, replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS tracehouse.error_logs ON CLUSTER 'tracehouse_2x2'
(
    event_id String CODEC(ZSTD(1)),
    event_time DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    parent_span_id String DEFAULT '' CODEC(ZSTD(1)),
    correlation_id String DEFAULT '' CODEC(ZSTD(1)),
    user_id String DEFAULT '' CODEC(ZSTD(1)),
    thread_id String DEFAULT '' CODEC(ZSTD(1)),
    execution_id String DEFAULT '' CODEC(ZSTD(1)),
    agent_name LowCardinality(String) DEFAULT '',
    metadata Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    error_class LowCardinality(String),
    message String CODEC(ZSTD(3)),
    stack Nullable(String) CODEC(ZSTD(3)),
    code LowCardinality(Nullable(String)),
    retriable Bool,
    phase LowCardinality(Nullable(String)),
    severity LowCardinality(String),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_user_id user_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_correlation_id correlation_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(event_time)
ORDER BY (toStartOfHour(event_time), trace_id, event_id)
TTL toDateTime(event_time) + INTERVAL 90 DAY
SETTINGS index_granularity = 8192, replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS tracehouse.spans ON CLUSTER 'tracehouse_2x2'
(
    event_id String CODEC(ZSTD(1)),
    event_time DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    parent_span_id String DEFAULT '' CODEC(ZSTD(1)),
    correlation_id String DEFAULT '' CODEC(ZSTD(1)),
    user_id String DEFAULT '' CODEC(ZSTD(1)),
    thread_id String DEFAULT '' CODEC(ZSTD(1)),
    execution_id String DEFAULT '' CODEC(ZSTD(1)),
    agent_name LowCardinality(String) DEFAULT '',
    metadata Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    name LowCardinality(String),
    kind LowCardinality(String),
    start_time DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
    end_time DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
    status_code LowCardinality(String),
    status_message Nullable(String) CODEC(ZSTD(3)),
    attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    events Array(Tuple(name String, time DateTime64(6, 'UTC'), attributes Map(String, String))) CODEC(ZSTD(1)),
    links Array(Tuple(trace_id String, span_id String, attributes Map(String, String))) CODEC(ZSTD(1)),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_user_id user_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_correlation_id correlation_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(event_time)
ORDER BY (toStartOfHour(event_time), trace_id, span_id, event_id)
TTL toDateTime(event_time) + INTERVAL 90 DAY
SETTINGS index_granularity = 8192, replicated_deduplication_window = 1000;

-- 2 executions_current
CREATE TABLE IF NOT EXISTS tracehouse.executions_state ON CLUSTER 'tracehouse_2x2'
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
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(first_seen)
ORDER BY (trace_id, execution_id)
TTL toDateTime(first_seen) + INTERVAL 90 DAY
SETTINGS index_granularity = 8192, replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.executions_state_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.executions_state
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
    FROM tracehouse.agent_executions
) AS src
GROUP BY trace_id, execution_id;

CREATE VIEW IF NOT EXISTS tracehouse.executions_current ON CLUSTER 'tracehouse_2x2'
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
FROM tracehouse.executions_state
GROUP BY trace_id, execution_id;

-- 3 agent_hourly
CREATE TABLE IF NOT EXISTS tracehouse.agent_hourly_facts ON CLUSTER 'tracehouse_2x2'
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(hour)
ORDER BY (agent_name, hour, event_id)
TTL hour + INTERVAL 90 DAY
SETTINGS index_granularity = 8192, replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.agent_hourly_executions_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.agent_hourly_facts
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
FROM tracehouse.agent_executions
WHERE lifecycle != 'UPDATED';

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.agent_hourly_metrics_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.agent_hourly_facts
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
FROM tracehouse.performance_metrics;

CREATE VIEW IF NOT EXISTS tracehouse.agent_stats_hourly ON CLUSTER 'tracehouse_2x2'
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
FROM tracehouse.agent_hourly_facts FINAL
GROUP BY agent_name, hour;

-- 4 errors_hourly
CREATE TABLE IF NOT EXISTS tracehouse.errors_hourly ON CLUSTER 'tracehouse_2x2'
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
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, agent_name, error_class, severity)
TTL hour + INTERVAL 90 DAY
SETTINGS index_granularity = 8192, replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.errors_hourly_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.errors_hourly
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
FROM tracehouse.error_logs
GROUP BY hour, agent_name, error_class, severity;

CREATE VIEW IF NOT EXISTS tracehouse.error_summary_hourly ON CLUSTER 'tracehouse_2x2'
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
FROM tracehouse.errors_hourly
GROUP BY hour, agent_name, error_class, severity;

-- 5 trace_index
CREATE TABLE IF NOT EXISTS tracehouse.trace_index ON CLUSTER 'tracehouse_2x2'
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
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(start_time)
ORDER BY trace_id
TTL toDateTime(start_time) + INTERVAL 90 DAY
SETTINGS index_granularity = 8192, replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.trace_index_executions_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id,
    max(toUInt8(lifecycle = 'FAILED')) AS has_error,
    argMinState((toString(agent_name), execution_id), (toUInt8(parent_execution_id != ''), event_time, event_id)) AS root,
    uniqExactState(execution_id) AS executions
FROM tracehouse.agent_executions
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.trace_index_events_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id,
    uniqExactState(event_id) AS events
FROM tracehouse.agent_events
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.trace_index_metrics_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id
FROM tracehouse.performance_metrics
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.trace_index_correlations_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id
FROM tracehouse.trace_correlations
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.trace_index_errors_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id,
    max(toUInt8(severity != 'WARNING')) AS has_error,
    uniqExactState(event_id) AS errors
FROM tracehouse.error_logs
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.trace_index_spans_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    greatest(max(src.event_time), max(src.end_time)) AS end_time,
    max(user_id) AS user_id,
    max(toUInt8(status_code = 'ERROR')) AS has_error,
    argMinIfState((toString(agent_name), execution_id), (toUInt8(0), event_time, event_id), parent_span_id = '') AS root,
    uniqExactState(span_id) AS spans
FROM tracehouse.spans AS src
GROUP BY trace_id;

CREATE VIEW IF NOT EXISTS tracehouse.traces ON CLUSTER 'tracehouse_2x2'
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
FROM tracehouse.trace_index
GROUP BY trace_id;

-- 6 execution_retry_of
ALTER TABLE tracehouse.agent_executions ON CLUSTER 'tracehouse_2x2'
    ADD COLUMN IF NOT EXISTS retry_of_execution_id String DEFAULT '' CODEC(ZSTD(1)) AFTER duration_ms;

-- 7 distributed
CREATE TABLE IF NOT EXISTS tracehouse.agent_executions_all ON CLUSTER 'tracehouse_2x2'
AS tracehouse.agent_executions
ENGINE = Distributed('tracehouse_2x2', tracehouse, agent_executions, cityHash64(trace_id));

CREATE TABLE IF NOT EXISTS tracehouse.agent_events_all ON CLUSTER 'tracehouse_2x2'
AS tracehouse.agent_events
ENGINE = Distributed('tracehouse_2x2', tracehouse, agent_events, cityHash64(trace_id));

CREATE TABLE IF NOT EXISTS tracehouse.performance_metrics_all ON CLUSTER 'tracehouse_2x2'
AS tracehouse.performance_metrics
ENGINE = Distributed('tracehouse_2x2', tracehouse, performance_metrics, cityHash64(trace_id));

CREATE TABLE IF NOT EXISTS tracehouse.trace_correlations_all ON CLUSTER 'tracehouse_2x2'
AS tracehouse.trace_correlations
ENGINE = Distributed('tracehouse_2x2', tracehouse, trace_correlations, cityHash64(trace_id));

CREATE TABLE IF NOT EXISTS tracehouse.error_logs_all ON CLUSTER 'tracehouse_2x2'
AS tracehouse.error_logs
ENGINE = Distributed('tracehouse_2x2', tracehouse, error_logs, cityHash64(trace_id));

CREATE TABLE IF NOT EXISTS tracehouse.spans_all ON CLUSTER 'tracehouse_2x2'
AS tracehouse.spans
ENGINE = Distributed('tracehouse_2x2', tracehouse, spans, cityHash64(trace_id));

CREATE TABLE IF NOT EXISTS tracehouse.executions_state_all ON CLUSTER 'tracehouse_2x2'
AS tracehouse.executions_state
ENGINE = Distributed('tracehouse_2x2', tracehouse, executions_state, cityHash64(trace_id));

CREATE TABLE IF NOT EXISTS tracehouse.agent_hourly_facts_all ON CLUSTER 'tracehouse_2x2'
AS tracehouse.agent_hourly_facts
ENGINE = Distributed('tracehouse_2x2', tracehouse, agent_hourly_facts, cityHash64(trace_id));

CREATE TABLE IF NOT EXISTS tracehouse.errors_hourly_all ON CLUSTER 'tracehouse_2x2'
AS tracehouse.errors_hourly
ENGINE = Distributed('tracehouse_2x2', tracehouse, errors_hourly, rand());

CREATE TABLE IF NOT EXISTS tracehouse.trace_index_all ON CLUSTER 'tracehouse_2x2'
AS tracehouse.trace_index
ENGINE = Distributed('tracehouse_2x2', tracehouse, trace_index, cityHash64(trace_id));

CREATE OR REPLACE VIEW tracehouse.executions_current ON CLUSTER 'tracehouse_2x2'
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
FROM tracehouse.executions_state_all
GROUP BY trace_id, execution_id;

CREATE OR REPLACE VIEW tracehouse.agent_stats_hourly ON CLUSTER 'tracehouse_2x2'
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
FROM tracehouse.agent_hourly_facts_all FINAL
GROUP BY agent_name, hour;

CREATE OR REPLACE VIEW tracehouse.error_summary_hourly ON CLUSTER 'tracehouse_2x2'
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
FROM tracehouse.errors_hourly_all
GROUP BY hour, agent_name, error_class, severity;

-- 8 execution_summary
CREATE TABLE IF NOT EXISTS tracehouse.execution_summary ON CLUSTER 'tracehouse_2x2'
(
    hour DateTime('UTC') CODEC(Delta(4), ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    execution_id String CODEC(ZSTD(1)),
    agent_name SimpleAggregateFunction(max, LowCardinality(String)),
    thread_id SimpleAggregateFunction(max, String),
    lifecycle AggregateFunction(argMax, String, Tuple(UInt8, DateTime64(6, 'UTC'), String)),
    root AggregateFunction(argMin, Tuple(String, String), Tuple(UInt8, DateTime64(6, 'UTC'), String)),
    events AggregateFunction(uniqExact, String),
    errors AggregateFunction(uniqExact, String),
    spans AggregateFunction(uniqExact, String),
    metrics AggregateFunction(groupUniqArray, Tuple(String, DateTime64(6, 'UTC'), Int64, Int64)),
    models SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    llm_calls AggregateFunction(uniqExact, String),
    cached AggregateFunction(groupUniqArray, Tuple(String, UInt64))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, trace_id, execution_id)
TTL hour + INTERVAL 90 DAY
SETTINGS index_granularity = 8192, replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.execution_summary_executions_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.execution_summary
AS SELECT
    toStartOfHour(src.event_time) AS hour,
    src.trace_id AS trace_id,
    src.execution_id AS execution_id,
    max(src.agent_name) AS agent_name,
    max(src.thread_id) AS thread_id,
    argMaxState(toString(src.lifecycle), (toUInt8(multiIf(src.lifecycle = 'STARTED', 0, src.lifecycle = 'UPDATED', 1, 2)), src.event_time, src.event_id)) AS lifecycle,
    argMinState((toString(src.agent_name), src.execution_id), (toUInt8(src.parent_execution_id != ''), src.event_time, src.event_id)) AS root
FROM tracehouse.agent_executions AS src
GROUP BY hour, trace_id, execution_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.execution_summary_events_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.execution_summary
AS SELECT
    toStartOfHour(event_time) AS hour,
    trace_id,
    execution_id,
    max(agent_name) AS agent_name,
    uniqExactState(event_id) AS events,
    groupUniqArrayIf(toString(name), event_kind = 'LLM_CALL_START') AS models,
    uniqExactIfState(event_id, event_kind = 'LLM_CALL_START') AS llm_calls,
    groupUniqArrayIfState((event_id, toUInt64OrZero(attributes['gen_ai.usage.cache_read.input_tokens'])), event_kind = 'LLM_CALL_END') AS cached
FROM tracehouse.agent_events
GROUP BY hour, trace_id, execution_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.execution_summary_metrics_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.execution_summary
AS SELECT
    toStartOfHour(event_time) AS hour,
    trace_id,
    execution_id,
    max(agent_name) AS agent_name,
    groupUniqArrayIfState((event_id, event_time, ifNull(prompt_tokens, 0), ifNull(completion_tokens, 0)), prompt_tokens IS NOT NULL OR completion_tokens IS NOT NULL) AS metrics
FROM tracehouse.performance_metrics
GROUP BY hour, trace_id, execution_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.execution_summary_errors_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.execution_summary
AS SELECT
    toStartOfHour(event_time) AS hour,
    trace_id,
    execution_id,
    uniqExactState(event_id) AS errors
FROM tracehouse.error_logs
GROUP BY hour, trace_id, execution_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.execution_summary_spans_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.execution_summary
AS SELECT
    toStartOfHour(event_time) AS hour,
    trace_id,
    execution_id,
    argMinIfState((toString(agent_name), execution_id), (toUInt8(0), event_time, event_id), parent_span_id = '') AS root,
    uniqExactState(span_id) AS spans
FROM tracehouse.spans
GROUP BY hour, trace_id, execution_id;

CREATE TABLE IF NOT EXISTS tracehouse.execution_summary_all ON CLUSTER 'tracehouse_2x2'
AS tracehouse.execution_summary
ENGINE = Distributed('tracehouse_2x2', tracehouse, execution_summary, cityHash64(trace_id));

-- 9 model_prices
CREATE TABLE IF NOT EXISTS tracehouse.model_prices ON CLUSTER 'tracehouse_2x2'
(
    generation UInt64,
    model String,
    input_per_million Float64,
    output_per_million Float64,
    cached_input_per_million Float64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (generation, model)
SETTINGS index_granularity = 8192, replicated_deduplication_window = 1000;

CREATE VIEW IF NOT EXISTS tracehouse.model_prices_current ON CLUSTER 'tracehouse_2x2'
AS SELECT model, input_per_million, output_per_million, cached_input_per_million
FROM tracehouse.model_prices
WHERE generation = (SELECT max(generation) FROM tracehouse.model_prices)
LIMIT 1 BY model;

CREATE TABLE IF NOT EXISTS tracehouse.model_prices_all ON CLUSTER 'tracehouse_2x2'
AS tracehouse.model_prices
ENGINE = Distributed('tracehouse_2x2', tracehouse, model_prices, rand());

CREATE OR REPLACE VIEW tracehouse.model_prices_current ON CLUSTER 'tracehouse_2x2'
AS SELECT model, input_per_million, output_per_million, cached_input_per_million
FROM tracehouse.model_prices_all
WHERE generation = (SELECT max(generation) FROM tracehouse.model_prices_all)
LIMIT 1 BY model;

-- 10 metrics_by_trace
ALTER TABLE tracehouse.performance_metrics ON CLUSTER 'tracehouse_2x2'
    MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

ALTER TABLE tracehouse.performance_metrics ON CLUSTER 'tracehouse_2x2'
    ADD PROJECTION IF NOT EXISTS metrics_by_trace (SELECT * ORDER BY toStartOfHour(event_time), trace_id, event_id);

ALTER TABLE tracehouse.performance_metrics ON CLUSTER 'tracehouse_2x2'
    MATERIALIZE PROJECTION metrics_by_trace;

-- 11 trace_index_by_end
ALTER TABLE tracehouse.trace_index ON CLUSTER 'tracehouse_2x2'
    MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

ALTER TABLE tracehouse.trace_index ON CLUSTER 'tracehouse_2x2'
    ADD PROJECTION IF NOT EXISTS trace_index_by_end (SELECT trace_id, start_time, end_time, user_id, has_error ORDER BY end_time);

ALTER TABLE tracehouse.trace_index ON CLUSTER 'tracehouse_2x2'
    MATERIALIZE PROJECTION trace_index_by_end;

-- 12 trace_index_bounds
CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.trace_index_executions_bounds_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id,
    max(toUInt8(lifecycle = 'FAILED')) AS has_error
FROM tracehouse.agent_executions
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.trace_index_events_bounds_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id
FROM tracehouse.agent_events
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.trace_index_metrics_bounds_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id
FROM tracehouse.performance_metrics
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.trace_index_correlations_bounds_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id
FROM tracehouse.trace_correlations
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.trace_index_errors_bounds_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    max(event_time) AS end_time,
    max(user_id) AS user_id,
    max(toUInt8(severity != 'WARNING')) AS has_error
FROM tracehouse.error_logs
GROUP BY trace_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracehouse.trace_index_spans_bounds_mv ON CLUSTER 'tracehouse_2x2'
TO tracehouse.trace_index
AS SELECT
    trace_id,
    min(event_time) AS start_time,
    greatest(max(src.event_time), max(src.end_time)) AS end_time,
    max(user_id) AS user_id,
    max(toUInt8(status_code = 'ERROR')) AS has_error
FROM tracehouse.spans AS src
GROUP BY trace_id;

DROP TABLE IF EXISTS tracehouse.trace_index_executions_mv ON CLUSTER 'tracehouse_2x2';

DROP TABLE IF EXISTS tracehouse.trace_index_events_mv ON CLUSTER 'tracehouse_2x2';

DROP TABLE IF EXISTS tracehouse.trace_index_metrics_mv ON CLUSTER 'tracehouse_2x2';

DROP TABLE IF EXISTS tracehouse.trace_index_correlations_mv ON CLUSTER 'tracehouse_2x2';

DROP TABLE IF EXISTS tracehouse.trace_index_errors_mv ON CLUSTER 'tracehouse_2x2';

DROP TABLE IF EXISTS tracehouse.trace_index_spans_mv ON CLUSTER 'tracehouse_2x2';

DROP VIEW IF EXISTS tracehouse.traces ON CLUSTER 'tracehouse_2x2';

ALTER TABLE tracehouse.trace_index ON CLUSTER 'tracehouse_2x2'
    DROP COLUMN IF EXISTS root, DROP COLUMN IF EXISTS spans, DROP COLUMN IF EXISTS executions,
    DROP COLUMN IF EXISTS events, DROP COLUMN IF EXISTS errors;

ALTER TABLE tracehouse.trace_index_all ON CLUSTER 'tracehouse_2x2'
    DROP COLUMN IF EXISTS root, DROP COLUMN IF EXISTS spans, DROP COLUMN IF EXISTS executions,
    DROP COLUMN IF EXISTS events, DROP COLUMN IF EXISTS errors;

CREATE VIEW IF NOT EXISTS tracehouse.traces ON CLUSTER 'tracehouse_2x2'
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
    FROM tracehouse.trace_index
    GROUP BY trace_id
) AS i
LEFT JOIN (
    SELECT trace_id, argMinMerge(root) AS root, sum(spans) AS span_count,
           countIf(lifecycle != '') AS execution_count, sum(events) AS event_count, sum(errors) AS error_count
    FROM (
        SELECT trace_id, execution_id, argMinMergeState(root) AS root, argMaxMerge(lifecycle) AS lifecycle,
               uniqExactMerge(spans) AS spans, uniqExactMerge(events) AS events, uniqExactMerge(errors) AS errors
        FROM tracehouse.execution_summary
        GROUP BY trace_id, execution_id
    )
    GROUP BY trace_id
) AS s ON s.trace_id = i.trace_id;
