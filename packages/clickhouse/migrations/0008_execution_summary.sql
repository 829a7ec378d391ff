-- Per execution and hour, what the trace list and a trace's cost need: the execution's agent (from its
-- lifecycle, event and metrics records), thread and lifecycle (from its lifecycle records), its root candidacy, its events, errors and spans, the tokens of
-- its performance-metrics records (a set of (event_id, event_time, input, output): each record counts
-- once), the models its LLM calls named, its LLM calls and the cached input tokens of its LLM_CALL_END
-- events. Every column is an idempotent aggregate, so a record delivered twice changes nothing, and an
-- insert adds one small state per execution and hour. Ordered by hour, then trace: the executions of a
-- page of traces (or of one trace) are read from the hours the traces span, not from every trace of the
-- month as a table keyed by trace id alone must (random trace ids put a page in every granule). A query
-- groups by (trace_id, execution_id) across hours. Cost = tokens × the price table, when read (usage.ts).

CREATE TABLE IF NOT EXISTS {{database}}.execution_summary{{on_cluster}}
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
ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, trace_id, execution_id)
{{ttl:hour}}
{{settings}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.execution_summary_executions_mv{{on_cluster}}
TO {{database}}.execution_summary
AS SELECT
    toStartOfHour(src.event_time) AS hour,
    src.trace_id AS trace_id,
    src.execution_id AS execution_id,
    max(src.agent_name) AS agent_name,
    max(src.thread_id) AS thread_id,
    argMaxState(toString(src.lifecycle), (toUInt8(multiIf(src.lifecycle = 'STARTED', 0, src.lifecycle = 'UPDATED', 1, 2)), src.event_time, src.event_id)) AS lifecycle,
    argMinState((toString(src.agent_name), src.execution_id), (toUInt8(src.parent_execution_id != ''), src.event_time, src.event_id)) AS root
FROM {{database}}.agent_executions AS src
GROUP BY hour, trace_id, execution_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.execution_summary_events_mv{{on_cluster}}
TO {{database}}.execution_summary
AS SELECT
    toStartOfHour(event_time) AS hour,
    trace_id,
    execution_id,
    max(agent_name) AS agent_name,
    uniqExactState(event_id) AS events,
    groupUniqArrayIf(toString(name), event_kind = 'LLM_CALL_START') AS models,
    uniqExactIfState(event_id, event_kind = 'LLM_CALL_START') AS llm_calls,
    groupUniqArrayIfState((event_id, toUInt64OrZero(attributes['gen_ai.usage.cache_read.input_tokens'])), event_kind = 'LLM_CALL_END') AS cached
FROM {{database}}.agent_events
GROUP BY hour, trace_id, execution_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.execution_summary_metrics_mv{{on_cluster}}
TO {{database}}.execution_summary
AS SELECT
    toStartOfHour(event_time) AS hour,
    trace_id,
    execution_id,
    max(agent_name) AS agent_name,
    groupUniqArrayIfState((event_id, event_time, ifNull(prompt_tokens, 0), ifNull(completion_tokens, 0)), prompt_tokens IS NOT NULL OR completion_tokens IS NOT NULL) AS metrics
FROM {{database}}.performance_metrics
GROUP BY hour, trace_id, execution_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.execution_summary_errors_mv{{on_cluster}}
TO {{database}}.execution_summary
AS SELECT
    toStartOfHour(event_time) AS hour,
    trace_id,
    execution_id,
    uniqExactState(event_id) AS errors
FROM {{database}}.error_logs
GROUP BY hour, trace_id, execution_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.execution_summary_spans_mv{{on_cluster}}
TO {{database}}.execution_summary
AS SELECT
    toStartOfHour(event_time) AS hour,
    trace_id,
    execution_id,
    argMinIfState((toString(agent_name), execution_id), (toUInt8(0), event_time, event_id), parent_span_id = '') AS root,
    uniqExactState(span_id) AS spans
FROM {{database}}.spans
GROUP BY hour, trace_id, execution_id;
{{#cluster}}

CREATE TABLE IF NOT EXISTS {{database}}.execution_summary_all{{on_cluster}}
AS {{database}}.execution_summary
ENGINE = Distributed({{cluster}}, {{database}}, execution_summary, cityHash64(trace_id));
{{/cluster}}
