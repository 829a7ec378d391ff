import { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { createClient } from "@clickhouse/client";
import type { ClickHouseClient, ClickHouseSettings } from "@clickhouse/client";
import { resolveHttpSinkConfig, sessionSettings } from "./config.js";
import type { HttpSinkConfig, HttpSinkOptions } from "./config.js";
import { CallGate } from "./internal/CallGate.js";
import { qualifyTable } from "./internal/identifiers.js";
import { stringifyRow } from "./internal/json-each-row.js";
import { encodeInsert } from "./internal/insert-payload.js";
import { INSERT_SETTINGS, QUERY_SETTINGS } from "./internal/settings.js";
import { SinkKind } from "./sink.js";
import { EncodedRows } from "./encoded-rows.js";
import type { InsertOptions, InsertResult, QueryParams, Row, Sink } from "./sink.js";

const LOG_LEVEL_OFF = 127;

/**
 * A ClickHouse server over HTTP(S) through @clickhouse/client: keep-alive pool, gzip both ways,
 * retries with backoff on retriable failures. Credentials come from the options or the
 * CLICKHOUSE_* environment and are never logged.
 */
export class HttpSink implements Sink {
  readonly kind = SinkKind.Http;
  readonly database: string;
  readonly config: HttpSinkConfig;
  readonly #client: ClickHouseClient;
  readonly #gate: CallGate;

  constructor(options: HttpSinkOptions = {}) {
    this.config = resolveHttpSinkConfig(options);
    this.database = this.config.database;
    this.#gate = new CallGate("http sink", this.config.retry, this.config.logger);
    this.#client = createClient({
      url: this.config.url,
      username: this.config.username,
      password: this.config.password,
      ...(this.config.ca === null ? {} : { tls: { ca_cert: this.config.ca } }),
      request_timeout: this.config.requestTimeoutMs,
      max_open_connections: this.config.maxOpenConnections,
      compression: { request: this.config.compression, response: this.config.compression },
      clickhouse_settings: { ...QUERY_SETTINGS, ...sessionSettings(this.config) } as ClickHouseSettings,
      json: { parse: JSON.parse, stringify: stringifyRow },
      log: { level: LOG_LEVEL_OFF },
      application: "tracehouse",
    });
    this.config.logger.debug("clickhouse http sink created", {
      url: this.config.url,
      database: this.database,
      customCa: this.config.ca !== null,
    });
  }

  get concurrency(): number {
    return this.config.maxOpenConnections;
  }

  async insert(
    table: string,
    rows: readonly Row[] | EncodedRows,
    options: InsertOptions = {},
  ): Promise<InsertResult> {
    const target = qualifyTable(this.database, table);
    if (rows.length === 0) return { rows: 0 };
    const settings: ClickHouseSettings = {
      ...(INSERT_SETTINGS as ClickHouseSettings),
      ...(options.dedupToken === undefined ? {} : { insert_deduplication_token: options.dedupToken }),
    };
    await this.#gate.run(`insert into ${target}`, async () => {
      if (rows instanceof EncodedRows) return this.#insertEncoded(target, rows, settings);
      await this.#client.insert({
        table: target,
        values: rows as Row[],
        format: "JSONEachRow",
        clickhouse_settings: settings,
      });
    });
    return { rows: rows.length };
  }

  /** Sends the encoded lines as they are: the client's insert() would stringify them again. */
  async #insertEncoded(target: string, rows: EncodedRows, settings: ClickHouseSettings): Promise<void> {
    const { format, columns, bytes } = encodeInsert(target, rows);
    const result = await this.#client.exec({
      query: `INSERT INTO ${target} (${columns!.join(", ")}) FORMAT ${format}`,
      values: Readable.from([bytes], { objectMode: false }),
      clickhouse_settings: settings,
    });
    await finished(result.stream.resume());
  }

  async query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]> {
    return this.#gate.run("query", async () => {
      const result = await this.#client.query({
        query: sql,
        format: "JSONEachRow",
        ...(params === undefined ? {} : { query_params: params as Record<string, unknown> }),
      });
      return result.json<T>();
    });
  }

  async command(sql: string): Promise<void> {
    await this.#gate.run("command", () =>
      this.#client.command({ query: sql, clickhouse_settings: { wait_end_of_query: 1 } }),
    );
  }

  close(): Promise<void> {
    return this.#gate.close(() => this.#client.close());
  }
}
