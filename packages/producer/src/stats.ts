/** Why a record was not sent. */
export const DropReason = {
  /** Its trace was not sampled. Never counts errors or failed executions. */
  Sampling: "sampling",
  /** The queue was full and `backpressure` is `drop`. */
  QueueFull: "queue_full",
  /** The spool had no room left. */
  SpoolFull: "spool_full",
  /** The queue was full and the records waiting for the spool's background writer reached `spool.maxPendingBytes`. */
  SpillBacklog: "spill_backlog",
  /** The spool could not be written (disk error, disk full); the error is logged. */
  SpoolError: "spool_error",
  /** Did not match its schema (ValidationError: null fields, NaN or ±Infinity, a wrong type); the error is logged. */
  Invalid: "invalid",
  /** Encoded record larger than `maxRecordBytes`. */
  Oversize: "oversize",
  /** Emitted after `close()`, or still unsent at close without a spool. */
  Closed: "closed",
  /** A spooled record failed its checksum or was cut short (torn write); counted per record known lost. */
  Corrupt: "corrupt",
} as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

export const ProducerState = {
  /** Sending to Kafka. */
  Connected: "connected",
  /** Kafka unreachable or failing: new records go to the spool while the oldest batch is retried. */
  Degraded: "degraded",
  Closed: "closed",
} as const;
export type ProducerState = (typeof ProducerState)[keyof typeof ProducerState];

/** Latency of acknowledged sends, over the last 1024 batches. */
export interface SendLatencyStats {
  readonly batches: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** A snapshot of the producer's counters; counts are totals since creation. */
export interface ProducerStats {
  readonly state: ProducerState;
  /** Records taken by `emit` (queued or spooled). */
  readonly accepted: number;
  /** Records acknowledged by Kafka, including those recovered from an earlier process's spool. */
  readonly sent: number;
  /** Of `sent`, records left in the spool by an earlier process. */
  readonly recovered: number;
  /** Records written to the spool (outage, failed send or full queue). */
  readonly spooled: number;
  readonly dropped: Readonly<Record<DropReason, number>>;
  /** Records and encoded bytes waiting in memory. */
  readonly queuedRecords: number;
  readonly queuedBytes: number;
  /** Bytes of unsent records in the spool's segment files. */
  readonly spoolBytes: number;
  /** Batches acknowledged and failed sends (each failure after the kafkajs retries counts once). */
  readonly batchesSent: number;
  readonly sendErrors: number;
  readonly sendLatency: SendLatencyStats;
}
