import { mkdirSync } from "node:fs";
import type { Session } from "chdb";
import { resolveEmbeddedSinkConfig, sessionSettings } from "./config.js";
import type { EmbeddedSinkConfig, EmbeddedSinkOptions } from "./config.js";
import { toSinkError } from "./internal/classify.js";
import { CallGate } from "./internal/CallGate.js";
import { loadChdb } from "./internal/chdb.js";
import { qualifyTable } from "./internal/identifiers.js";
import { encodeJsonEachRow, parseJsonEachRow } from "./internal/json-each-row.js";
import { INSERT_SETTINGS, QUERY_SETTINGS } from "./internal/settings.js";
import { SinkKind } from "./sink.js";
import type { InsertOptions, InsertResult, QueryParams, Row, Sink } from "./sink.js";

const connectionArgs = Object.entries(QUERY_SETTINGS).map(([name, value]) => `--${name}=${value}`);

/**
 * The ClickHouse engine in-process (chdb). One data directory per process: several sinks on the
 * same directory share it; opening another directory while one is open fails. Every call is
 * asynchronous (runs off the event loop); inserts hand a JSONEachRow buffer to the engine's parser.
 */
export class EmbeddedSink implements Sink {
  readonly kind = SinkKind.Embedded;
  readonly database: string;
  readonly config: EmbeddedSinkConfig;
  readonly #session: Session;
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
      this.#session = new Session(this.config.dataDir, { connectionArgs: [...connectionArgs, ...limits] });
    } catch (error) {
      throw toSinkError(error, `open embedded engine at ${this.config.dataDir}`);
    }
  }

  get dataDir(): string {
    return this.config.dataDir;
  }

  async insert(table: string, rows: readonly Row[], options: InsertOptions = {}): Promise<InsertResult> {
    const target = qualifyTable(this.database, table);
    if (rows.length === 0) return { rows: 0 };
    const payload = encodeJsonEachRow(rows);
    const settings =
      options.dedupToken === undefined
        ? INSERT_SETTINGS
        : { ...INSERT_SETTINGS, insert_deduplication_token: options.dedupToken };
    await this.#gate.run(`insert into ${target}`, () =>
      this.#session.insert({ table: target, values: payload, format: "JSONEachRow", settings }),
    );
    return { rows: rows.length };
  }

  async query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]> {
    const result = await this.#gate.run("query", () =>
      params === undefined || Object.keys(params).length === 0
        ? this.#session.queryAsync(sql, { format: "JSONEachRow" })
        : this.#session.queryBindAsync(sql, params, { format: "JSONEachRow" }),
    );
    return parseJsonEachRow<T>(result.text());
  }

  async command(sql: string): Promise<void> {
    await this.#gate.run("command", () => this.#session.queryAsync(sql, { format: "Null" }));
  }

  close(): Promise<void> {
    return this.#gate.close(() => this.#session.close());
  }
}
