import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { EmbeddedSink, HttpSink } from "../../src/index.js";
import type { Logger, Sink } from "../../src/index.js";

export interface SinkOverrides {
  readonly maxRetries?: number;
  readonly logger?: Logger;
  readonly readOnly?: boolean;
  readonly maxExecutionTimeS?: number;
}

/** Makes a sink on the given database; every suite runs once per sink kind. */
export type SinkFactory = (database: string, overrides?: SinkOverrides) => Sink;

export interface SinkTarget {
  readonly label: string;
  readonly makeSink: SinkFactory;
}

let dataDir: string | null = null;
let databases = 0;

/** The one chdb data directory of this mocha process (chdb binds one per process). */
export function testDataDir(): string {
  dataDir ??= mkdtempSync(path.join(tmpdir(), "tracehouse-clickhouse-test-"));
  return dataDir;
}

/** A database name no other test of this run uses. */
export function uniqueDatabase(label: string): string {
  databases += 1;
  return `th_${label}_${process.pid}_${databases}`;
}

export const embeddedTarget: SinkTarget = {
  label: "embedded",
  makeSink: (database, overrides = {}) =>
    new EmbeddedSink({ dataDir: testDataDir(), database, maxRetries: 0, retryBaseDelayMs: 5, ...overrides }),
};

/** The HTTP target when CLICKHOUSE_URL names a server, else null. */
export function httpTarget(): SinkTarget | null {
  if ((process.env["CLICKHOUSE_URL"] ?? "") === "") return null;
  return {
    label: "http",
    makeSink: (database, overrides = {}) =>
      new HttpSink({ database, maxRetries: 0, retryBaseDelayMs: 5, ...overrides }),
  };
}

export const mochaHooks = {
  afterAll(): void {
    if (dataDir !== null) rmSync(dataDir, { recursive: true, force: true });
  },
};

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** A logger that keeps what it is given, to assert on retries and on what never gets logged. */
export function recordingLogger(): Logger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (message: string, fields: Readonly<Record<string, unknown>> = {}): void => {
      lines.push({ level, message, fields });
    };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
