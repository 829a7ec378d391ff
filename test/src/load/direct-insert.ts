import { toRow } from "@tracehouse/clickhouse";
import type { Row, Sink } from "@tracehouse/clickhouse";
import { TraceContext } from "@tracehouse/context";
import { decodeRecord } from "@tracehouse/schemas";
import { consumeUntil } from "@tracehouse/testkit";
import type { Kafka } from "kafkajs";

export interface DirectInsertOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Where the rows go (its own database, tables created). */
  readonly sink: Sink;
  /** Records to read from the topics before stopping. */
  readonly expected: number;
  /** Rows per insert, as the worker's `maxBatchRows`. */
  readonly batchRows: number;
  /** Inserts at once, as the worker's `maxConcurrentInserts`. */
  readonly concurrency: number;
  /** Decoded rows held before they are inserted (bounds memory). */
  readonly chunkRows?: number;
  readonly timeoutMs: number;
}

export interface DirectInsertResult {
  readonly rows: number;
  readonly batches: number;
  /** Time spent in insert calls only (decoding and reading Kafka excluded). */
  readonly insertSeconds: number;
  readonly rowsPerS: number;
}

/**
 * The baseline of the end-to-end ratio: the same rows the worker wrote (read back from the
 * topics and mapped by the worker's own projection, `toRow`) inserted straight into ClickHouse in
 * batches of the same size, with the same concurrency, timing the inserts alone.
 */
export async function directInsert(options: DirectInsertOptions): Promise<DirectInsertResult> {
  const { sink, batchRows, concurrency } = options;
  const chunkRows = options.chunkRows ?? 100_000;
  const buffers = new Map<string, Row[]>();
  let buffered = 0;
  let read = 0;
  let inserted = 0;
  let batches = 0;
  let insertMs = 0;

  const insertBatches = async (all: boolean): Promise<void> => {
    const work: { table: string; rows: Row[] }[] = [];
    for (const [table, rows] of buffers) {
      while (rows.length >= batchRows || (all && rows.length > 0)) {
        work.push({ table, rows: rows.splice(0, batchRows) });
      }
    }
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < work.length) {
          const { table, rows } = work[next++]!;
          await sink.insert(table, rows, { dedupToken: `direct-${table}-${batches++}` });
          inserted += rows.length;
          buffered -= rows.length;
        }
      }),
    );
    insertMs += performance.now() - started;
  };

  const consumer = options.kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: 100 });
  try {
    await consumeUntil(
      consumer,
      options.topics,
      async ({ batch }) => {
        for (const message of batch.messages) {
          if (message.value === null) continue;
          const { table, row } = toRow(
            decodeRecord(message.value),
            TraceContext.fromHeaders(message.headers),
          );
          let rows = buffers.get(table);
          if (rows === undefined) buffers.set(table, (rows = []));
          rows.push(row);
          buffered++;
          read++;
        }
        if (buffered >= chunkRows) await insertBatches(false);
        return read >= options.expected;
      },
      {
        ms: options.timeoutMs,
        error: () => new Error(`direct insert: read ${read} of ${options.expected} records in time`),
      },
    );
  } finally {
    const admin = options.kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteGroups([options.groupId]))
      .catch(() => undefined)
      .finally(() => admin.disconnect());
  }
  await insertBatches(true);
  return {
    rows: inserted,
    batches,
    insertSeconds: insertMs / 1000,
    rowsPerS: inserted / (insertMs / 1000),
  };
}
