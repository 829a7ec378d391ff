/**
 * The steps of the worker, timed one by one over the same records, outside the worker: a plain
 * consumer reads the topics again, and each step function runs over every fetched batch with the
 * thread's CPU time taken around it. The rows then go straight into the engine (another database,
 * same schema, same batch size and concurrency as the worker): the direct-insert baseline.
 */
import { encodeInsert, lacksIdentity, toRow } from "@tracehouse/clickhouse";
import type { Row, Sink } from "@tracehouse/clickhouse";
import { TraceContext } from "@tracehouse/context";
import { decodeRecord } from "@tracehouse/schemas";
import { consumeUntil } from "@tracehouse/testkit";
import type { Kafka } from "kafkajs";
import { StepClock, processCpuNs, round, threadCpuNs } from "./cpu.js";

export interface StepsOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly total: number;
  /** Where the direct insert goes: a sink on another database of the same engine, tables created. */
  readonly sink: Sink;
  readonly batchRows: number;
  readonly concurrency: number;
}

export interface StepsResult {
  /** CPU µs per record of each step; `insert_engine` is the engine's threads, the others the main thread. */
  readonly cpuUsPerRecord: Record<string, number>;
  readonly directInsertRowsPerS: number;
  readonly directInsertSeconds: number;
}

/** Rows cut into batches wait until this many are pending, then are inserted together. */
const ROUND_BATCHES = 4;

export async function measureSteps(options: StepsOptions): Promise<StepsResult> {
  const { sink, batchRows, concurrency } = options;
  const clock = new StepClock();
  const open = new Map<string, Row[]>();
  const ready: { table: string; rows: Row[] }[] = [];
  const offsets = new Map<string, { topic: string; partition: number; offset: string }>();
  let read = 0;
  let inserted = 0;
  let insertMs = 0;
  let engineNs = 0;
  let batches = 0;

  const consumer = options.kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: 100 });

  /** Inserts the ready batches, `concurrency` at a time; encodes each first, timed on its own. */
  const insertRound = async (): Promise<void> => {
    const work = ready.splice(0);
    const encodeBefore = threadCpuNs();
    for (const { table, rows } of work) encodeInsert(table, rows);
    const encodeNs = threadCpuNs() - encodeBefore;
    clock.add("encode", encodeNs);
    const mainBefore = threadCpuNs();
    const processBefore = processCpuNs();
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < work.length) {
          const { table, rows } = work[next++]!;
          await sink.insert(table, rows, { dedupToken: `direct-${table}-${batches++}` });
          inserted += rows.length;
        }
      }),
    );
    insertMs += performance.now() - started;
    const mainNs = threadCpuNs() - mainBefore;
    engineNs += processCpuNs() - processBefore - mainNs;
    // The sink encodes again inside insert(): the rest of the main thread's time is the call itself.
    clock.add("insert_call", Math.max(0, mainNs - encodeNs));
    const commits = [...offsets.values()];
    offsets.clear();
    if (commits.length > 0) {
      const before = threadCpuNs();
      await consumer.commitOffsets(commits);
      clock.add("commit", threadCpuNs() - before);
    }
  };

  const phaseStarted = threadCpuNs();
  await consumeUntil(consumer, options.topics, async ({ batch }) => {
    const messages = batch.messages.filter((message) => message.value !== null);
    const decoded = clock.time("decode", () => messages.map((message) => decodeRecord(message.value)));
    const mapped = clock.time("project", () =>
      decoded.map((record, index) =>
        toRow(record, lacksIdentity(record) ? TraceContext.fromHeaders(messages[index]!.headers) : undefined),
      ),
    );
    clock.time("batch", () => {
      for (const { table, row } of mapped) {
        let rows = open.get(table);
        if (rows === undefined) open.set(table, (rows = []));
        rows.push(row);
        if (rows.length >= batchRows) {
          ready.push({ table, rows });
          open.set(table, []);
        }
      }
    });
    read += messages.length;
    const offset = String(Number(batch.lastOffset()) + 1);
    offsets.set(`${batch.topic}/${batch.partition}`, {
      topic: batch.topic,
      partition: batch.partition,
      offset,
    });
    if (read >= options.total) {
      for (const [table, rows] of open) if (rows.length > 0) ready.push({ table, rows });
      open.clear();
    }
    if (ready.length >= ROUND_BATCHES || read >= options.total) await insertRound();
    return read >= options.total;
  });
  const stepsNs = clock.total();
  const phaseNs = threadCpuNs() - phaseStarted;
  // Whatever the main thread did besides the timed steps: fetching (kafkajs decodes the fetch
  // responses), the sink's second encoding of each batch, timers.
  clock.add("fetch_and_rest", Math.max(0, phaseNs - stepsNs));
  clock.add("insert_engine", engineNs);
  const insertSeconds = insertMs / 1000;
  return {
    cpuUsPerRecord: clock.perRecord(read),
    directInsertRowsPerS: Math.round(inserted / insertSeconds),
    directInsertSeconds: round(insertSeconds),
  };
}
