import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { EmbeddedSink, HttpSink } from "../../src/index.js";
import type { Sink } from "../../src/index.js";

/** Makes a sink on the given database; every suite runs once per sink kind. */
export type SinkFactory = (database: string) => Sink;

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
  makeSink: (database) => new EmbeddedSink({ dataDir: testDataDir(), database, maxRetries: 0 }),
};

/** The HTTP target when CLICKHOUSE_URL names a server, else null. */
export function httpTarget(): SinkTarget | null {
  if ((process.env["CLICKHOUSE_URL"] ?? "") === "") return null;
  return { label: "http", makeSink: (database) => new HttpSink({ database }) };
}

export const mochaHooks = {
  afterAll(): void {
    if (dataDir !== null) rmSync(dataDir, { recursive: true, force: true });
  },
};
