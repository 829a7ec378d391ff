-- execution v2 adds retry_of_execution_id: the execution this one retries ('' for none).

ALTER TABLE {{database}}.agent_executions{{on_cluster}}
    ADD COLUMN IF NOT EXISTS retry_of_execution_id String DEFAULT '' CODEC(ZSTD(1)) AFTER duration_ms;
