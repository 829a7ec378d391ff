-- trace_index is ordered by trace id, so the trace list (and findTraces), which asks for the traces
-- whose rows end after the window's start, read every granule of the month. A projection of the
-- columns they read, ordered by end time, gives them only the granules that end inside or after the
-- window. Merges rebuild it; MATERIALIZE PROJECTION builds it for existing parts (a background mutation).

ALTER TABLE {{database}}.trace_index{{on_cluster}}
    MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

ALTER TABLE {{database}}.trace_index{{on_cluster}}
    ADD PROJECTION IF NOT EXISTS trace_index_by_end (SELECT trace_id, start_time, end_time, user_id, has_error ORDER BY end_time);

ALTER TABLE {{database}}.trace_index{{on_cluster}}
    MATERIALIZE PROJECTION trace_index_by_end;
