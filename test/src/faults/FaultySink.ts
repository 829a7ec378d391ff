import { SinkError } from "@tracehouse/clickhouse";
import type { InsertOptions, InsertResult, QueryParams, Row, Sink } from "@tracehouse/clickhouse";

/**
 * A real sink with a switch: while the fault is on, every insert fails the way an overloaded or
 * unreachable ClickHouse does (a retriable SinkError), so the worker retries and holds its offsets.
 * Queries and commands pass through.
 */
export class FaultySink implements Sink {
  #failing = false;
  #failedInserts = 0;

  constructor(private readonly inner: Sink) {}

  get kind(): Sink["kind"] {
    return this.inner.kind;
  }

  get database(): string {
    return this.inner.database;
  }

  get concurrency(): number {
    return this.inner.concurrency;
  }

  get failing(): boolean {
    return this.#failing;
  }

  /** Inserts refused since the start. */
  get failedInserts(): number {
    return this.#failedInserts;
  }

  setFailing(failing: boolean): void {
    this.#failing = failing;
  }

  async insert(table: string, rows: readonly Row[], options?: InsertOptions): Promise<InsertResult> {
    if (this.#failing) {
      this.#failedInserts++;
      throw new SinkError(`injected fault: ClickHouse refused the insert into ${table}`, {
        retriable: true,
        clickhouseCode: 202, // TOO_MANY_SIMULTANEOUS_QUERIES
      });
    }
    return this.inner.insert(table, rows, options);
  }

  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]> {
    return this.inner.query<T>(sql, params);
  }

  command(sql: string): Promise<void> {
    return this.inner.command(sql);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
