import { createHash } from "node:crypto";
import { TABLE_COLUMNS } from "@tracehouse/clickhouse";
import type { RecordTable } from "@tracehouse/clickhouse";
import type { SourceRef } from "../source.js";

/** `toYYYYMM` of epoch microseconds: the partition a row goes to. */
export function monthOf(micros: unknown): number {
  if (typeof micros !== "number") return 0;
  const date = new Date(Math.floor(micros / 1000));
  return date.getUTCFullYear() * 100 + date.getUTCMonth() + 1;
}

/**
 * The batch a row joins: one per table and ClickHouse partition (month), so an insert never spans
 * more partitions than one INSERT may touch (error 252); and per Kafka partition when `kafkaPartition`
 * is given (replay: deterministic batches, deterministic dedup tokens).
 */
export function batchKey(table: RecordTable, eventTime: unknown, kafkaPartition: string | null): string {
  const month = `${table}\u0001${monthOf(eventTime)}`;
  return kafkaPartition === null ? month : `${month}\u0000${kafkaPartition}`;
}

/**
 * `insert_deduplication_token` of a batch: a hash of its table and topic-partition-offset ranges,
 * so a retried insert of the same batch is recognised and dropped by ClickHouse.
 */
export function dedupToken(table: RecordTable, sources: readonly SourceRef[]): string {
  const hash = createHash("sha256").update(table).update(TABLE_COLUMNS[table].join(","));
  let current: SourceRef | undefined;
  let first = 0;
  let last = 0;
  const flush = (): void => {
    if (current !== undefined)
      hash.update(`|${current.offsets.topic}/${current.offsets.partition}/${first}-${last}`);
  };
  for (const source of sources) {
    if (
      current !== undefined &&
      source.offsets.topic === current.offsets.topic &&
      source.offsets.partition === current.offsets.partition
    ) {
      if (source.offset === last + 1) {
        last = source.offset;
        continue;
      }
    }
    flush();
    current = source;
    first = source.offset;
    last = source.offset;
  }
  flush();
  return `${table}-${hash.digest("hex").slice(0, 40)}`;
}
