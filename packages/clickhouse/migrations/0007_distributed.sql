-- Cluster mode only (a sharded, replicated ClickHouse cluster): a Distributed table `<name>_all` over
-- every replicated table, sharded by trace id so that a trace, its duplicates included, lives on one
-- shard (ReplacingMergeTree and FINAL then deduplicate within a shard, which is enough). The worker
-- inserts into the record tables' `_all` tables; the materialized views fire on each shard's local
-- tables; reads go through `_all` (see `tableFor` in src/tables.ts). The three views that aggregate
-- across traces are redefined over the `_all` tables, so their figures are cluster-wide.
-- On a single server this file renders to nothing.
{{#cluster}}

CREATE TABLE IF NOT EXISTS {{database}}.agent_executions_all{{on_cluster}}
AS {{database}}.agent_executions
ENGINE = Distributed({{cluster}}, {{database}}, agent_executions, cityHash64(trace_id));

CREATE TABLE IF NOT EXISTS {{database}}.agent_events_all{{on_cluster}}
AS {{database}}.agent_events
ENGINE = Distributed({{cluster}}, {{database}}, agent_events, cityHash64(trace_id));

CREATE TABLE IF NOT EXISTS {{database}}.performance_metrics_all{{on_cluster}}
AS {{database}}.performance_metrics
ENGINE = Distributed({{cluster}}, {{database}}, performance_metrics, cityHash64(trace_id));

CREATE TABLE IF NOT EXISTS {{database}}.trace_correlations_all{{on_cluster}}
AS {{database}}.trace_correlations
ENGINE = Distributed({{cluster}}, {{database}}, trace_correlations, cityHash64(trace_id));

CREATE TABLE IF NOT EXISTS {{database}}.error_logs_all{{on_cluster}}
AS {{database}}.error_logs
ENGINE = Distributed({{cluster}}, {{database}}, error_logs, cityHash64(trace_id));

CREATE TABLE IF NOT EXISTS {{database}}.spans_all{{on_cluster}}
AS {{database}}.spans
ENGINE = Distributed({{cluster}}, {{database}}, spans, cityHash64(trace_id));

CREATE TABLE IF NOT EXISTS {{database}}.executions_state_all{{on_cluster}}
AS {{database}}.executions_state
ENGINE = Distributed({{cluster}}, {{database}}, executions_state, cityHash64(trace_id));

CREATE TABLE IF NOT EXISTS {{database}}.agent_hourly_facts_all{{on_cluster}}
AS {{database}}.agent_hourly_facts
ENGINE = Distributed({{cluster}}, {{database}}, agent_hourly_facts, cityHash64(trace_id));

CREATE TABLE IF NOT EXISTS {{database}}.errors_hourly_all{{on_cluster}}
AS {{database}}.errors_hourly
ENGINE = Distributed({{cluster}}, {{database}}, errors_hourly, rand());

CREATE TABLE IF NOT EXISTS {{database}}.trace_index_all{{on_cluster}}
AS {{database}}.trace_index
ENGINE = Distributed({{cluster}}, {{database}}, trace_index, cityHash64(trace_id));

CREATE OR REPLACE VIEW {{database}}.executions_current{{on_cluster}}
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
FROM {{database}}.executions_state_all
GROUP BY trace_id, execution_id;

CREATE OR REPLACE VIEW {{database}}.agent_stats_hourly{{on_cluster}}
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
FROM {{database}}.agent_hourly_facts_all FINAL
GROUP BY agent_name, hour;

CREATE OR REPLACE VIEW {{database}}.error_summary_hourly{{on_cluster}}
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
FROM {{database}}.errors_hourly_all
GROUP BY hour, agent_name, error_class, severity;
{{/cluster}}
