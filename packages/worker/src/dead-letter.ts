import { DecodeErrorReason } from "@tracehouse/schemas";

/**
 * Headers added to a dead-lettered record. The value, key and original headers are kept as they
 * were; these say why, where from and when.
 */
export const DeadLetterHeader = {
  /** A {@link DeadLetterReason}. */
  Reason: "tracehouse-dlq-reason",
  /** The error message. */
  Error: "tracehouse-dlq-error",
  Topic: "tracehouse-dlq-topic",
  Partition: "tracehouse-dlq-partition",
  Offset: "tracehouse-dlq-offset",
  /** The source record's Kafka timestamp (epoch milliseconds). */
  Timestamp: "tracehouse-dlq-timestamp",
  /** When it was dead-lettered (ISO 8601). */
  Time: "tracehouse-dlq-time",
  /** The table whose insert rejected the row, for `rejected`. */
  Table: "tracehouse-dlq-table",
  /** The consumer group that dead-lettered it. */
  Group: "tracehouse-dlq-group",
  /** A {@link DeadLetterValue}: what the value holds. */
  Value: "tracehouse-dlq-value",
  /** For `invalid_row`: the record field that cannot be stored (e.g. `event_time`). */
  Field: "tracehouse-dlq-field",
  /** Bytes of the original value (also when the value is not copied). */
  Size: "tracehouse-dlq-size",
} as const;
export type DeadLetterHeader = (typeof DeadLetterHeader)[keyof typeof DeadLetterHeader];

/**
 * What a dead letter's value holds: the original record bytes; the row as JSON (only when the
 * original could no longer be read back from its topic); or nothing, a pointer: the original is too
 * large to copy (or the broker refused the copy) and stays at the topic, partition and offset named
 * in the headers, without its original headers.
 */
export const DeadLetterValue = { Original: "original", RowJson: "row-json", Pointer: "pointer" } as const;
export type DeadLetterValue = (typeof DeadLetterValue)[keyof typeof DeadLetterValue];

/** Why a record was dead-lettered: the decode failures, then the row-level ones. */
export const DeadLetterReason = {
  ...DecodeErrorReason,
  /** Decoded, but a value cannot be stored faithfully (e.g. a time outside DateTime64). */
  InvalidRow: "invalid_row",
  /** ClickHouse rejected the row (found by splitting the failed batch). */
  Rejected: "rejected",
  /** ClickHouse kept failing on the row with a transient error until the retries ran out. */
  RetriesExhausted: "retries_exhausted",
} as const;
export type DeadLetterReason = (typeof DeadLetterReason)[keyof typeof DeadLetterReason];

/** A dead-lettered record as read back from the dead-letter topic. */
export interface DeadLetterInfo {
  readonly reason: string;
  readonly error: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly timestamp: string | null;
  readonly time: string;
  readonly table: string | null;
  readonly group: string | null;
  readonly value: string;
  readonly field: string | null;
}

type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

function text(value: HeaderValue): string | null {
  if (value === undefined) return null;
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return null;
  return typeof first === "string" ? first : first.toString("utf8");
}

/** The dead-letter headers of a consumed record; null when it carries none (or they are malformed). */
export function parseDeadLetterHeaders(
  headers: Readonly<Record<string, HeaderValue>> | undefined,
): DeadLetterInfo | null {
  if (headers === undefined) return null;
  const reason = text(headers[DeadLetterHeader.Reason]);
  const topic = text(headers[DeadLetterHeader.Topic]);
  const partition = Number(text(headers[DeadLetterHeader.Partition]));
  const offset = text(headers[DeadLetterHeader.Offset]);
  const time = text(headers[DeadLetterHeader.Time]);
  if (reason === null || topic === null || offset === null || time === null || !Number.isInteger(partition)) {
    return null;
  }
  return {
    reason,
    error: text(headers[DeadLetterHeader.Error]) ?? "",
    topic,
    partition,
    offset,
    timestamp: text(headers[DeadLetterHeader.Timestamp]),
    time,
    table: text(headers[DeadLetterHeader.Table]),
    group: text(headers[DeadLetterHeader.Group]),
    value: text(headers[DeadLetterHeader.Value]) ?? DeadLetterValue.Original,
    field: text(headers[DeadLetterHeader.Field]),
  };
}
