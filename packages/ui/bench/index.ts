/**
 * The trace explorer's benchmark: ≥ 1,000,000 executions and ≥ 10,000,000 events in the embedded
 * engine, then p95 of the trace, list and agents APIs over HTTP and the first render of the trace
 * page in headless Chromium. Prints figures, then one line of JSON.
 *
 * The generated data is kept between runs in TRACEHOUSE_BENCH_DIR (default: a folder under the
 * system's temporary directory named after the trace count) and reused when it holds the same
 * number of traces; TRACEHOUSE_BENCH_FRESH=1 generates it again. Migrations added since are applied
 * to kept data, materialized views they add are backfilled from the record tables, and the mutations
 * they start (a projection built for existing parts) finish before anything is measured.
 *
 * Each API family's first request reads its columns from disk and runs its statements for the first
 * time; it is timed on its own (`*_cold_ms`), and the p95 of each family is taken over the
 * ROUNDS requests after it: a served UI repeats the same statements on every poll.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClickHouseTraceSchema, EmbeddedSink } from "@tracehouse/clickhouse";
import { startUiServer } from "../src/server/index.js";
import { launchChromium } from "../test/support/browser.js";
import { FANOUT, generate } from "./generate.js";

const TRACES = Number(process.env["TRACEHOUSE_BENCH_TRACES"] ?? 200_000);
const ROUNDS = Number(process.env["TRACEHOUSE_BENCH_ROUNDS"] ?? 40);
const DATA_DIR = process.env["TRACEHOUSE_BENCH_DIR"] ?? join(tmpdir(), `tracehouse-ui-bench-${TRACES}`);
const MARKER = join(DATA_DIR, "bench-data.json");
const HOUR_MS = 3_600_000;

/** What a kept data directory holds: written once the generation finished. */
interface BenchData {
  readonly traces: number;
  readonly executions: number;
  readonly events: number;
  /** Epoch ms where the generated day starts; traces follow evenly for 24 hours. */
  readonly fromMs: number;
  readonly generateS: number;
}

function keptData(): BenchData | null {
  if (process.env["TRACEHOUSE_BENCH_FRESH"] === "1" || !existsSync(MARKER)) return null;
  const data = JSON.parse(readFileSync(MARKER, "utf8")) as BenchData;
  return data.traces === TRACES ? data : null;
}

function p95(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)]! * 10) / 10;
}

async function timed(url: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(url);
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return performance.now() - started;
}

/** Fills the (empty) targets of materialized views created after the data was generated. */
async function backfillNewViews(sink: EmbeddedSink): Promise<void> {
  const views = await sink.query<{ name: string; target: string; select: string }>(
    `SELECT name, extract(create_table_query, ' TO (\\S+)') AS target, as_select AS select
     FROM system.tables WHERE database = {db:String} AND engine = 'MaterializedView'`,
    { db: sink.database },
  );
  const rowsOf = async (table: string): Promise<number> =>
    Number((await sink.query<{ n: number }>(`SELECT count() AS n FROM ${table}`))[0]?.n ?? 0);
  const empty = new Set<string>();
  for (const view of views) if ((await rowsOf(view.target)) === 0) empty.add(view.target);
  for (const view of views.filter((v) => empty.has(v.target))) {
    const started = performance.now();
    const columns = await sink.query<{ name: string }>(`DESCRIBE TABLE (${view.select})`);
    await sink.command(
      `INSERT INTO ${view.target} (${columns.map((column) => column.name).join(", ")}) ${view.select}`,
    );
    console.log(
      `backfilled ${view.target} through ${view.name} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
}

/** Waits for the mutations a migration started (MATERIALIZE PROJECTION) to finish on the kept data. */
async function finishMutations(sink: EmbeddedSink): Promise<void> {
  const started = performance.now();
  const pending = async (): Promise<number> =>
    Number(
      (
        await sink.query<{ n: number }>(
          "SELECT count() AS n FROM system.mutations WHERE database = {db:String} AND NOT is_done",
          { db: sink.database },
        )
      )[0]?.n ?? 0,
    );
  if ((await pending()) === 0) return;
  while ((await pending()) > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
  console.log(`finished the migrations' mutations in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

async function main(): Promise<void> {
  let data = keptData();
  if (data === null) rmSync(DATA_DIR, { recursive: true, force: true });
  const sink = new EmbeddedSink({ dataDir: DATA_DIR, database: "th_ui_bench" });
  try {
    let started = performance.now();
    const migrated = await new ClickHouseTraceSchema(sink, { ttlDays: null }).createTables();
    if (data !== null) {
      if (migrated.applied.length > 0)
        console.log(`applied migrations ${migrated.applied.join(", ")} to the kept data`);
      await backfillNewViews(sink);
      await finishMutations(sink);
    }
    if (data === null) {
      const fromMs = Date.now() - 24 * HOUR_MS;
      started = performance.now();
      const counts = await generate(sink, {
        traces: TRACES,
        baseUs: fromMs * 1000,
        spacingUs: Math.floor((24 * HOUR_MS * 1000) / TRACES),
      });
      data = { traces: TRACES, ...counts, fromMs, generateS: (performance.now() - started) / 1000 };
      writeFileSync(MARKER, JSON.stringify(data));
    }
    const { executions, events, generateS } = data;
    console.log(
      `${executions} executions, ${events} events (${TRACES} traces) in ${DATA_DIR}, generated in ${generateS.toFixed(1)} s`,
    );
    // The last hour of the generated day, wherever the clock is now.
    const window = `from=${data.fromMs + 23 * HOUR_MS}&to=${data.fromMs + 24 * HOUR_MS}`;

    const server = await startUiServer({ sink });
    const traceIds = (
      await sink.query<{ id: string }>(
        `SELECT lower(hex(MD5(toString(number * 997 % ${TRACES})))) AS id FROM numbers(${ROUNDS})`,
      )
    ).map((row) => row.id);
    const agents = ["researcher", "coder", "reviewer", "writer"];
    const listUrl = (i: number) =>
      `${server.url}/api/traces?${window}&agent=${agents[i % 4]}&errors=${i % 2 ? "yes" : "no"}`;
    const agentsUrl = `${server.url}/api/agents?${window}`;
    const cold = {
      trace: await timed(`${server.url}/api/traces/${traceIds[0]}`),
      list: await timed(listUrl(0)),
      agents: await timed(agentsUrl),
    };
    const trace: number[] = [];
    for (const id of traceIds) trace.push(await timed(`${server.url}/api/traces/${id}`));
    const list: number[] = [];
    for (let i = 0; i < ROUNDS; i++) list.push(await timed(listUrl(i)));
    const agentTimes: number[] = [];
    for (let i = 0; i < ROUNDS; i++) agentTimes.push(await timed(agentsUrl));

    const browser = await launchChromium();
    const renders: number[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      for (const id of traceIds.slice(0, 10)) {
        started = performance.now();
        await page.goto(`${server.url}/trace/${id}`);
        await page
          .locator(".wf-row.execution")
          .nth(FANOUT - 1)
          .waitFor();
        renders.push(performance.now() - started);
      }
    } finally {
      await browser.close();
      await server.close();
    }
    const result = {
      executions,
      events,
      traces: TRACES,
      generate_s: Math.round(generateS * 10) / 10,
      trace_api_p95_ms: p95(trace),
      list_api_p95_ms: p95(list),
      agents_api_p95_ms: p95(agentTimes),
      first_render_ms: p95(renders),
      trace_api_cold_ms: Math.round(cold.trace),
      list_api_cold_ms: Math.round(cold.list),
      agents_api_cold_ms: Math.round(cold.agents),
    };
    console.log(
      `trace API p95 ${result.trace_api_p95_ms} ms · filtered list (1 h, agent, errors) p95 ${result.list_api_p95_ms} ms · ` +
        `agents (1 h) p95 ${result.agents_api_p95_ms} ms · trace page first render p95 ${result.first_render_ms} ms\n` +
        `first request of each: trace ${result.trace_api_cold_ms} ms · list ${result.list_api_cold_ms} ms · agents ${result.agents_api_cold_ms} ms`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await sink.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
