/**
 * Where the benchmark's API time goes: each trace query the UI's routes run, timed on its own over
 * the benchmark's kept data (run `npm run bench` first), and each SQL statement behind it (the
 * embedded engine keeps no query log). `tsx bench/profile.ts [family…]`; families: trace, list, agents.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { EmbeddedSink, TraceQueries } from "@tracehouse/clickhouse";
import type { QueryParams, Sink } from "@tracehouse/clickhouse";

const TRACES = Number(process.env["TRACEHOUSE_BENCH_TRACES"] ?? 200_000);
const DATA_DIR = process.env["TRACEHOUSE_BENCH_DIR"] ?? join(tmpdir(), `tracehouse-ui-bench-${TRACES}`);
const HOUR_MS = 3_600_000;
const ROUNDS = Number(process.env["TRACEHOUSE_PROFILE_ROUNDS"] ?? 5);

async function main(): Promise<void> {
  const data = JSON.parse(readFileSync(join(DATA_DIR, "bench-data.json"), "utf8")) as { fromMs: number };
  const sink = new EmbeddedSink({ dataDir: DATA_DIR, database: "th_ui_bench" });
  const statements: { sql: string; ms: number }[] = [];
  const timing: Sink = {
    kind: sink.kind,
    database: sink.database,
    concurrency: sink.concurrency,
    insert: (table, rows, options) => sink.insert(table, rows, options),
    command: (sql) => sink.command(sql),
    close: () => sink.close(),
    async query<T>(sql: string, params?: QueryParams): Promise<T[]> {
      const started = performance.now();
      try {
        return await sink.query<T>(sql, params);
      } finally {
        statements.push({ sql: sql.replace(/\s+/g, " ").slice(0, 110), ms: performance.now() - started });
      }
    },
  };
  const queries = new TraceQueries(timing);
  const window = { from: new Date(data.fromMs + 23 * HOUR_MS), to: new Date(data.fromMs + 24 * HOUR_MS) };
  const id = (await sink.query<{ id: string }>(`SELECT lower(hex(MD5(toString(997)))) AS id`))[0]!.id;
  const cases: Record<string, () => Promise<unknown>> = {
    trace: () => queries.getTrace(id),
    list: () => queries.listTraces({ ...window, agent: "coder", hasError: false }),
    "list errors": () => queries.listTraces({ ...window, agent: "coder", hasError: true }),
    "agents stats": () => queries.agentCostStats(window),
    "agents hourly": () => queries.agentHourlyCostStats(window),
    "agents slowest": () => queries.slowestExecutions({ ...window, limit: 20 }),
  };
  const only = process.argv.slice(2);
  try {
    for (const [name, run] of Object.entries(cases)) {
      if (only.length > 0 && !only.some((family) => name.startsWith(family))) continue;
      const times: number[] = [];
      statements.length = 0;
      for (let i = 0; i < ROUNDS; i++) {
        const started = performance.now();
        await run();
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      console.log(
        `${name.padEnd(16)} median ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms  min ${times[0]!.toFixed(0)} ms`,
      );
      for (const { sql, ms } of statements.slice(-statements.length / ROUNDS))
        console.log(`  ${ms.toFixed(0).padStart(6)} ms  ${sql}`);
    }
  } finally {
    await sink.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
