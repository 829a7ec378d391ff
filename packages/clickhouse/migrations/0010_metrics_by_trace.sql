-- performance_metrics is ordered by agent first, so the metrics of one trace lie in one granule per agent
-- (a trace of five agents read five granules where the other record tables read one). A projection
-- orders a copy of each part by hour and trace, as the other record tables are; a trace lookup (trace_id
-- and its time bounds) reads it instead. Merges rebuild it, so it stays exact after deduplication;
-- MATERIALIZE PROJECTION builds it for the parts written before this migration (a background mutation).

ALTER TABLE {{database}}.performance_metrics{{on_cluster}}
    MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

ALTER TABLE {{database}}.performance_metrics{{on_cluster}}
    ADD PROJECTION IF NOT EXISTS metrics_by_trace (SELECT * ORDER BY toStartOfHour(event_time), trace_id, event_id);

ALTER TABLE {{database}}.performance_metrics{{on_cluster}}
    MATERIALIZE PROJECTION metrics_by_trace;
