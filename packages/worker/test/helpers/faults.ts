import { EncodedRows, SinkError } from "@tracehouse/clickhouse";
import type { InsertOptions, InsertResult, Row, Sink } from "@tracehouse/clickhouse";

export interface FaultPlan {
  /** Inserts (counted from 1) that fail with a retriable error before reaching the engine. */
  readonly failBefore?: ReadonlySet<number>;
  /** Inserts that reach the engine, then fail as if the acknowledgement was lost. */
  readonly failAfter?: ReadonlySet<number>;
  /** Added latency of every insert. */
  readonly delayMs?: number;
  /** Every insert waits for this before it reaches the engine (a slow engine the test releases). */
  readonly gate?: Promise<void>;
  /** Inserts holding a matching row fail every time, as an engine out of memory for that row would. */
  readonly heavyRow?: (row: Row) => boolean;
}

/**
 * Fault injection around a real sink: every insert that is not failed "before" runs on the real
 * engine; the failures are the ones a network or an overloaded server produces.
 */
export class FaultInjectingSink implements Sink {
  readonly kind;
  readonly database;
  inserts = 0;
  readonly tokens: (string | undefined)[] = [];

  constructor(
    private readonly inner: Sink,
    private readonly plan: FaultPlan,
  ) {
    this.kind = inner.kind;
    this.database = inner.database;
  }

  get concurrency(): number {
    return this.inner.concurrency;
  }

  async insert(
    table: string,
    rows: readonly Row[] | EncodedRows,
    options?: InsertOptions,
  ): Promise<InsertResult> {
    const call = ++this.inserts;
    this.tokens.push(options?.dedupToken);
    if (this.plan.delayMs !== undefined)
      await new Promise((resolve) => setTimeout(resolve, this.plan.delayMs));
    await this.plan.gate;
    if (
      this.plan.heavyRow !== undefined &&
      (rows instanceof EncodedRows ? rows.rows() : rows).some(this.plan.heavyRow)
    ) {
      throw new SinkError(`insert ${call}: memory limit exceeded`, { retriable: true, clickhouseCode: 241 });
    }
    if (this.plan.failBefore?.has(call) === true) {
      throw new SinkError(`insert ${call}: connection reset`, { retriable: true, clickhouseCode: 210 });
    }
    const result = await this.inner.insert(table, rows, options);
    if (this.plan.failAfter?.has(call) === true) {
      throw new SinkError(`insert ${call}: response lost`, { retriable: true, clickhouseCode: 319 });
    }
    return result;
  }

  query<T = Record<string, unknown>>(sql: string, params?: Readonly<Record<string, unknown>>): Promise<T[]> {
    return this.inner.query<T>(sql, params);
  }

  command(sql: string): Promise<void> {
    return this.inner.command(sql);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
