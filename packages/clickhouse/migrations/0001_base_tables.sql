-- The six record tables: one row per record, one column per record field.
-- ReplacingMergeTree with event_id last in the sorting key: a record written twice collapses on merge;
-- readers use FINAL (or aggregate over distinct event_id) to be exact before merges.
-- Nullable envelope ids (parent_span_id, correlation_id, user_id, thread_id, execution_id, agent_name)
-- are stored as '' for null so they can sit in sorting keys and bloom filters.

CREATE TABLE IF NOT EXISTS {{database}}.agent_executions{{on_cluster}}
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
ENGINE = {{engine:ReplacingMergeTree}}
PARTITION BY toYYYYMM(event_time)
ORDER BY (agent_name, toStartOfHour(event_time), execution_id, event_id)
{{ttl:toDateTime(event_time)}}
{{settings}};

CREATE TABLE IF NOT EXISTS {{database}}.agent_events{{on_cluster}}
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
ENGINE = {{engine:ReplacingMergeTree}}
PARTITION BY toYYYYMM(event_time)
ORDER BY (toStartOfHour(event_time), trace_id, event_id)
{{ttl:toDateTime(event_time)}}
{{settings}};

CREATE TABLE IF NOT EXISTS {{database}}.performance_metrics{{on_cluster}}
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
ENGINE = {{engine:ReplacingMergeTree}}
PARTITION BY toYYYYMM(event_time)
ORDER BY (agent_name, toStartOfHour(event_time), execution_id, event_id)
{{ttl:toDateTime(event_time)}}
{{settings}};

CREATE TABLE IF NOT EXISTS {{database}}.trace_correlations{{on_cluster}}
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
ENGINE = {{engine:ReplacingMergeTree}}
PARTITION BY toYYYYMM(event_time)
ORDER BY (toStartOfHour(event_time), trace_id, event_id)
{{ttl:toDateTime(event_time)}}
{{settings}};

CREATE TABLE IF NOT EXISTS {{database}}.error_logs{{on_cluster}}
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
ENGINE = {{engine:ReplacingMergeTree}}
PARTITION BY toYYYYMM(event_time)
ORDER BY (toStartOfHour(event_time), trace_id, event_id)
{{ttl:toDateTime(event_time)}}
{{settings}};

CREATE TABLE IF NOT EXISTS {{database}}.spans{{on_cluster}}
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
ENGINE = {{engine:ReplacingMergeTree}}
PARTITION BY toYYYYMM(event_time)
ORDER BY (toStartOfHour(event_time), trace_id, span_id, event_id)
{{ttl:toDateTime(event_time)}}
{{settings}};
