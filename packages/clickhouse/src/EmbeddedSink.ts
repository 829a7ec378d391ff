import { mkdirSync } from "node:fs";
import type { Session } from "chdb";
import { resolveEmbeddedSinkConfig, sessionSettings } from "./config.js";
import type { EmbeddedSinkConfig, EmbeddedSinkOptions } from "./config.js";
import { toSinkError } from "./internal/classify.js";
import { CallGate } from "./internal/CallGate.js";
import { loadChdb } from "./internal/chdb.js";
import { engineConfigArgument } from "./internal/engine-config.js";
import { qualifyTable } from "./internal/identifiers.js";
import { encodeInsert } from "./internal/insert-payload.js";
import { parseJsonEachRow } from "./internal/json-each-row.js";
import { EMBEDDED_INSERT_SETTINGS, QUERY_SETTINGS } from "./internal/settings.js";
import { SinkKind } from "./sink.js";
import type { EncodedRows } from "./encoded-rows.js";
import type { InsertOptions, InsertResult, QueryParams, Row, Sink } from "./sink.js";

const connectionArgs = Object.entries(QUERY_SETTINGS).map(([name, value]) => `--${name}=${value}`);

/** One engine connection and the calls running on it (a connection runs one call at a time). */
interface Connection {
  readonly session: Session;
  busy: number;
}

/**
 * The ClickHouse engine in-process (chdb). One data directory per process: several sinks on the
 * same directory share it; opening another directory while one is open fails. Every call is
 * asynchronous (runs off the event loop) on the least busy of `sessions` connections; inserts
 * hand the engine's parser a buffer (record tables positionally, see encodeInsert).
 */
export class EmbeddedSink implements Sink {
  readonly kind = SinkKind.Embedded;
  readonly database: string;
  readonly config: EmbeddedSinkConfig;
  readonly #connections: Connection[] = [];
  readonly #gate: CallGate;

  constructor(options: EmbeddedSinkOptions = {}) {
    this.config = resolveEmbeddedSinkConfig(options);
    this.database = this.config.database;
    this.#gate = new CallGate("embedded sink", this.config.retry, this.config.logger);
    try {
      mkdirSync(this.config.dataDir, { recursive: true });
      const { Session } = loadChdb();
      const limits = Object.entries(sessionSettings(this.config)).map(
        ([name, value]) => `--${name}=${value}`,
      );
      const args = [engineConfigArgument(this.config.dataDir, this.config), ...connectionArgs, ...limits];
      for (let index = 0; index < this.config.sessions; index++) {
        const session = new Session(this.config.dataDir, { connectionArgs: args });
        this.#connections.push({ session, busy: 0 });
      }
    } catch (error) {
      for (const { session } of this.#connections) session.close();
      throw toSinkError(error, `open embedded engine at ${this.config.dataDir}`);
    }
  }

  get concurrency(): number {
    return this.config.sessions;
  }

  get dataDir(): string {
    return this.config.dataDir;
  }

  async insert(
    table: string,
    rows: readonly Row[] | EncodedRows,
    options: InsertOptions = {},
  ): Promise<InsertResult> {
    const target = qualifyTable(this.database, table);
    if (rows.length === 0) return { rows: 0 };
    const { format, columns, bytes } = encodeInsert(target, rows);
    const settings =
      options.dedupToken === undefined
        ? EMBEDDED_INSERT_SETTINGS
        : { ...EMBEDDED_INSERT_SETTINGS, insert_deduplication_token: options.dedupToken };
    await this.#gate.run(`insert into ${target}`, () =>
      this.#onConnection((session) =>
        session.insert({
          table: target,
          values: bytes,
          format,
          ...(columns === undefined ? {} : { columns }),
          settings,
        }),
      ),
    );
    return { rows: rows.length };
  }

  async query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]> {
    const result = await this.#gate.run("query", () =>
      this.#onConnection((session) =>
        params === undefined || Object.keys(params).length === 0
          ? session.queryAsync(sql, { format: "JSONEachRow" })
          : session.queryBindAsync(sql, params, { format: "JSONEachRow" }),
      ),
    );
    return parseJsonEachRow<T>(result.text());
  }

  async command(sql: string): Promise<void> {
    await this.#gate.run("command", () =>
      this.#onConnection((session) => session.queryAsync(sql, { format: "Null" })),
    );
  }

  close(): Promise<void> {
    return this.#gate.close(() => {
      for (const { session } of this.#connections) session.close();
    });
  }

  /** Runs a call on the connection with the fewest calls in flight. */
  async #onConnection<T>(call: (session: Session) => Promise<T>): Promise<T> {
    let connection = this.#connections[0]!;
    for (const candidate of this.#connections) if (candidate.busy < connection.busy) connection = candidate;
    connection.busy++;
    try {
      return await call(connection.session);
    } finally {
      connection.busy--;
    }
  }
}
