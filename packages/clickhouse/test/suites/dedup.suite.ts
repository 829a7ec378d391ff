import { expect } from "chai";
import { ClickHouseTraceSchema, RecordTable, TraceQueries } from "../../src/index.js";
import type { Row, Sink } from "../../src/index.js";
import { uniqueDatabase } from "../support/engine.js";
import type { SinkTarget } from "../support/engine.js";
import { HOUR, T0, TRACE_A, TRACE_B, fixtureRows } from "../support/fixture.js";
import { insertRows } from "../support/insert.js";
import { emptyRows, generateTraces, seededRandom } from "../support/records.js";
import type { TraceRows } from "../support/records.js";

/** Rounds floats so sums taken in another order compare equal. */
function normalise(value: unknown): unknown {
  if (typeof value === "number") return Number.isInteger(value) ? value : Number(value.toPrecision(12));
  if (Array.isArray(value)) return value.map(normalise);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, normalise(inner)]));
  }
  return value;
}

/** The same rows again, shuffled and cut into overlapping batches of another size. */
function rebatched(rows: TraceRows, seed: number): TraceRows[] {
  const random = seededRandom(seed);
  const batches: TraceRows[] = [emptyRows(), emptyRows(), emptyRows()];
  for (const [table, list] of Object.entries(rows) as [keyof TraceRows, Row[]][]) {
    const shuffled = [...list].sort(() => random() - 0.5);
    const third = Math.ceil(shuffled.length / 3);
    batches[0]?.[table].push(...shuffled.slice(0, third * 2));
    batches[1]?.[table].push(...shuffled.slice(third));
    batches[2]?.[table].push(...shuffled.slice(third, third * 2), ...shuffled.slice(0, 1));
  }
  return batches;
}

export function describeDedup(target: SinkTarget): void {
  describe(`${target.label} idempotent projection`, () => {
    let sink: Sink;
    let queries: TraceQueries;
    let db: string;
    const rows = fixtureRows();
    const generated = generateTraces({ traces: 30, startUs: T0 + 2 * HOUR, seed: 11 });
    for (const [table, list] of Object.entries(generated) as [keyof TraceRows, Row[]][])
      rows[table].push(...list);
    const someTrace = String(generated.spans[0]?.["trace_id"]);

    const rawCounts = async (): Promise<Record<string, number>> => {
      const counts: Record<string, number> = {};
      for (const table of [...Object.values(RecordTable), "agent_hourly_facts"]) {
        const [row] = await sink.query<{ c: number }>(`SELECT count() AS c FROM ${db}.${table}`);
        counts[table] = row?.c ?? -1;
      }
      return counts;
    };

    const snapshot = async (): Promise<unknown> => {
      const range = { from: new Date((T0 - HOUR) / 1000), to: new Date((T0 + 6 * HOUR) / 1000) };
      const finalCounts: Record<string, number> = {};
      for (const table of Object.values(RecordTable)) {
        const [row] = await sink.query<{ c: number }>(`SELECT count() AS c FROM ${db}.${table} FINAL`);
        finalCounts[table] = row?.c ?? -1;
      }
      const view = (name: string, order: string): Promise<unknown[]> =>
        sink.query(`SELECT * FROM ${db}.${name} ORDER BY ${order}`);
      return normalise({
        finalCounts,
        executionsCurrent: await view("executions_current", "execution_id"),
        agentStatsHourly: await view("agent_stats_hourly", "agent_name, hour"),
        errorSummaryHourly: await view("error_summary_hourly", "hour, agent_name, error_class, severity"),
        traces: await view("traces", "trace_id"),
        agentStats: await queries.agentStats(range),
        agentHourlyStats: await queries.agentHourlyStats(range),
        overview: await queries.agentCostOverview(range),
        slowest: await queries.slowestExecutions({ ...range, limit: 5 }),
        errors: await queries.errorSummary(range),
        found: await queries.findTraces({ ...range, limit: 100 }),
        traceA: await queries.getTrace(TRACE_A),
        traceB: await queries.getTrace(TRACE_B),
        generatedTrace: await queries.getTrace(someTrace),
      });
    };

    before(async () => {
      db = uniqueDatabase("dedup");
      sink = target.makeSink(db);
      queries = new TraceQueries(sink);
      await new ClickHouseTraceSchema(sink).createTables();
    });

    after(async () => {
      await sink.command(`DROP DATABASE IF EXISTS ${db}`);
      await sink.close();
    });

    it("duplicate inserts leave counts and aggregates unchanged", async () => {
      await insertRows(sink, rows, { dedupToken: "run-1" });
      const once = await snapshot();
      const countsOnce = await rawCounts();
      expect((once as { finalCounts: Record<string, number> }).finalCounts["agent_executions"]).to.equal(
        rows.agent_executions.length,
      );

      await insertRows(sink, rows, { dedupToken: "run-1" });
      expect(await rawCounts(), "a retried batch with its token is dropped before the views").to.deep.equal(
        countsOnce,
      );
      expect(await snapshot()).to.deep.equal(once);

      await insertRows(sink, rows);
      for (const [index, batch] of rebatched(rows, 5).entries()) {
        await insertRows(sink, batch, { dedupToken: `replay-${index}` });
      }
      const countsReplayed = await rawCounts();
      expect(countsReplayed["spans"], "replayed rows really are stored again").to.be.greaterThan(
        countsOnce["spans"] ?? 0,
      );
      expect(countsReplayed["agent_hourly_facts"]).to.be.greaterThan(countsOnce["agent_hourly_facts"] ?? 0);
      expect(await snapshot(), "same and different batches count once").to.deep.equal(once);

      for (const table of [
        ...Object.values(RecordTable),
        "agent_hourly_facts",
        "executions_state",
        "errors_hourly",
        "trace_index",
      ]) {
        await sink.command(`OPTIMIZE TABLE ${db}.${table} FINAL`);
      }
      expect(await snapshot(), "and after merges").to.deep.equal(once);
      expect(await rawCounts()).to.deep.equal(countsOnce);
    });
  });
}
