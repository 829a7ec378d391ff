import { SinkError } from "@tracehouse/clickhouse";
import { ErrorCode, NonRetriableError } from "@tracehouse/schemas";
import type { Command } from "commander";
import { addClickHouseOptions, withSink } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { addOptions, optionTable, readOptions, valueSources } from "../options/spec.js";
import type { RawOptions } from "../options/spec.js";
import { safeJson } from "../terminal-text.js";

/** `tracehouse query` refused a statement that is not read-only (without `--write`). */
export class ReadOnlyQueryError extends NonRetriableError {
  override readonly name: string = "ReadOnlyQueryError";

  constructor(what: string, options: { readonly cause?: unknown } = {}) {
    super(
      `${what}: tracehouse query is read-only; pass --write to run statements that write or change anything`,
      {
        ...options,
        code: ErrorCode.Query,
      },
    );
  }
}

export const QUERY = optionTable("Query", {
  maxExecutionTimeS: {
    type: "integer",
    flag: "max-execution-time",
    arg: "<seconds>",
    env: "TRACEHOUSE_QUERY_MAX_EXECUTION_TIME",
    default: 60,
    min: 0,
    doc: "the statement's time limit, 0 for none",
  },
});

/** Statements that only read. */
const READ_ONLY_START = /^\(*\s*(SELECT|WITH|SHOW|DESCRIBE|DESC|EXPLAIN|EXISTS)\b/i;
/** Table functions that read or write files or the network (the engine's readonly=1 refuses them too). */
const OUTSIDE_WORLD =
  /\b(file|url|s3|s3Cluster|gcs|azureBlobStorage|hdfs|remote|remoteSecure|mysql|postgresql|odbc|jdbc|executable|input)\s*\(/i;
const LEADING_COMMENTS = /^(\s+|--[^\n]*(\n|$)|#[^\n]*(\n|$)|\/\*[\s\S]*?\*\/)*/;

/** Throws ReadOnlyQueryError for a statement that is plainly not read-only; the engine's readonly=1 enforces the rest. */
export function checkReadOnly(sql: string): void {
  const statement = sql.replace(LEADING_COMMENTS, "");
  if (!READ_ONLY_START.test(statement)) {
    const keyword = /^\S+(\s+INTO\s+FUNCTION)?/i.exec(statement)?.[0] ?? "an empty statement";
    throw new ReadOnlyQueryError(`${keyword.toUpperCase()} is not a read-only statement`);
  }
  const outside = OUTSIDE_WORLD.exec(statement);
  if (outside !== null)
    throw new ReadOnlyQueryError(`the table function ${outside[1]}() reads outside the database`);
}

export function registerQuery(program: Command, io: Io): void {
  const query = program
    .command("query")
    .argument("<sql>", "a read-only statement (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN, EXISTS) unless --write")
    .description(
      "run SQL on the sink and print rows as JSON lines, read-only (readonly=1) and time-limited by default (the embedded engine's data directory has one reader at a time)",
    )
    .option("--write", "allow statements that write or change anything (INSERT, DDL, TRUNCATE, file())");
  addOptions(query, QUERY);
  addClickHouseOptions(query).action((sql: string, raw: RawOptions, command: Command) => {
    const write = raw.write === true;
    const maxExecutionTimeS =
      readOptions(QUERY, raw, valueSources(command)).maxExecutionTimeS ??
      QUERY.options.maxExecutionTimeS.default;
    if (!write) checkReadOnly(sql);
    return withSink(
      raw,
      command,
      async (sink) => {
        let rows: Record<string, unknown>[];
        try {
          rows = await sink.query(sql);
        } catch (error) {
          if (!write && error instanceof SinkError && error.clickhouseCode === 164)
            throw new ReadOnlyQueryError("the engine refused the statement in readonly mode", {
              cause: error,
            });
          throw error;
        }
        for (const row of rows) io.out(safeJson(row) + "\n");
      },
      { readOnly: !write, maxExecutionTimeS, maxRetries: 0 },
    );
  });
}
