// Reading traces back: getTrace's tree and summary, findTraces and listTraces over the trace
// index, and the plans that bound their scans.
import { expect } from "chai";
import { ClickHouseTraceSchema, TraceQueries } from "../../src/index.js";
import type { ExecutionNode, Row, Sink } from "../../src/index.js";
import { uniqueDatabase } from "../support/engine.js";
import type { SinkTarget } from "../support/engine.js";
import {
  EXEC,
  HOUR,
  OLD_OFFSET,
  SECOND,
  T0,
  TRACE_A,
  TRACE_B,
  TRACE_OLD,
  at,
  executionRow,
  spanRow,
  startInOneMonth,
} from "../support/fixture.js";
import { withFixtureDatabase } from "../support/fixture-database.js";
import { insertRows } from "../support/insert.js";
import { emptyRows, envelope } from "../support/records.js";

export function describeTraceQueries(target: SinkTarget): void {
  describe(`${target.label} trace queries`, () => {
    let sink: Sink;
    let queries: TraceQueries;
    let db: string;
    withFixtureDatabase(target, "queries", (fixture) => ({ sink, queries, db } = fixture));

    describe("getTrace of a trace whose root span starts before its first execution record", () => {
      const TRACE = "d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4";
      let earlyDb: string;
      let earlySink: Sink;

      before(async () => {
        earlyDb = uniqueDatabase("early_span");
        earlySink = target.makeSink(earlyDb);
        await new ClickHouseTraceSchema(earlySink).createTables();
        const rows = emptyRows();
        const root = {
          trace_id: TRACE,
          execution_id: "exec-early",
          agent_name: "gateway",
          span_id: "4000000000000001",
        };
        rows.agent_executions.push(
          executionRow(envelope({ ...root, event_time: T0 + 240 }), "STARTED"),
          executionRow(envelope({ ...root, event_time: T0 + 5 * SECOND }), "COMPLETED", {
            duration_ms: 5000,
          }),
        );
        // spans are written when they end: event_time is the end, start_time may precede every other record
        rows.spans.push(
          spanRow(envelope({ ...root, event_time: T0 + 6 * SECOND }), "agent gateway", T0, T0 + 6 * SECOND),
          spanRow(
            envelope({
              ...root,
              span_id: "4000000000000002",
              parent_span_id: root.span_id,
              event_time: T0 + 2 * SECOND,
            }),
            "tool lookup",
            T0 + SECOND,
            T0 + 2 * SECOND,
          ),
        );
        await insertRows(earlySink, rows);
      });

      after(async () => {
        await earlySink.command(`DROP DATABASE IF EXISTS ${earlyDb}`);
        await earlySink.close();
      });

      it("starts the summary at the earliest span start, so no record has a negative offset", async () => {
        const queries = new TraceQueries(earlySink);
        for (const useIndex of [true, false]) {
          const trace = await queries.getTrace(TRACE, { useIndex });
          expect(trace?.summary, `useIndex ${useIndex}`).to.deep.include({
            startTimeUs: T0,
            endTimeUs: T0 + 6 * SECOND,
            durationMs: 6000,
            spanCount: 2,
          });
          const node = trace?.roots[0] as ExecutionNode;
          expect(node.startedAtUs! - trace!.summary.startTimeUs).to.equal(240);
          for (const span of node.spans) {
            expect(Number(span["start_time"])).to.be.at.least(trace!.summary.startTimeUs);
          }
        }
      });
    });

    describe("reads over 20,000 traces of five agents (several granules)", () => {
      let manyDb: string;
      let manySink: Sink;
      const trace = (n: string | number): string => `lower(hex(MD5(toString(${n}))))`;
      /** Trace n's five metrics records (one per agent) are at START + n × 2 s, in one month's partition. */
      const TRACES = 20_000;
      const START = startInOneMonth(TRACES * 2 * SECOND);
      const atTrace = (n: number): number => START + n * 2 * SECOND;
      const plan = async (sql: string, params: Record<string, unknown>): Promise<string> =>
        (await manySink.query<{ explain: string }>(`EXPLAIN indexes = 1 ${sql}`, params))
          .map((line) => line.explain)
          .join("\n");

      before(async () => {
        manyDb = uniqueDatabase("many_traces");
        manySink = target.makeSink(manyDb);
        await new ClickHouseTraceSchema(manySink).createTables();
        await manySink.command(
          `INSERT INTO ${manyDb}.performance_metrics (event_id, event_time, trace_id, span_id, execution_id, agent_name, total_ms)
           SELECT toString(generateUUIDv4(number)), fromUnixTimestamp64Micro(${START} + intDiv(number, 5) * ${2 * SECOND}, 'UTC'),
                  ${trace("intDiv(number, 5)")}, 's', toString(number), ['a', 'b', 'c', 'd', 'e'][number % 5 + 1], 1
           FROM numbers(${TRACES * 5})`,
        );
      });

      after(async () => {
        await manySink.command(`DROP DATABASE IF EXISTS ${manyDb}`);
        await manySink.close();
      });

      it("reads a trace's metrics from the projection ordered by hour and trace (one granule)", async () => {
        const [id] = await manySink.query<{ id: string }>(`SELECT ${trace(777)} AS id`);
        const text = await plan(
          `SELECT * FROM ${manyDb}.performance_metrics AS t
           WHERE t.trace_id = {t:String}
             AND t.event_time BETWEEN fromUnixTimestamp64Micro({f:Int64}, 'UTC') AND fromUnixTimestamp64Micro({e:Int64}, 'UTC')
           ORDER BY t.event_time, t.event_id LIMIT 1 BY t.event_id`,
          { t: id?.id, f: atTrace(777), e: atTrace(777) },
        );
        expect(text).to.match(
          /ReadFromMergeTree \(metrics_by_trace\)\s+Read type: \w+\s+Parts: 1 \| Granules: 1\b/,
        );
        const tree = await new TraceQueries(manySink).getTrace(id?.id ?? "");
        expect(tree?.unattached.metrics.map((record) => record.agent_name).sort()).to.deep.equal([
          "a",
          "b",
          "c",
          "d",
          "e",
        ]);
      });

      it("lists the traces of a window from the trace index's projection ordered by end time", async () => {
        const params = { from_us: atTrace(TRACES) - HOUR, to_us: atTrace(TRACES) };
        const page = (settings: string): string =>
          `SELECT trace_id, min(t.start_time) AS start_time FROM ${manyDb}.trace_index AS t
           WHERE t.start_time < fromUnixTimestamp64Micro({to_us:Int64}, 'UTC') AND t.end_time >= fromUnixTimestamp64Micro({from_us:Int64}, 'UTC')
           GROUP BY trace_id HAVING start_time >= fromUnixTimestamp64Micro({from_us:Int64}, 'UTC')
           ORDER BY trace_id SETTINGS optimize_use_projections = ${settings}`;
        const text = await plan(page("1"), params);
        const [, read, of] =
          /ReadFromMergeTree \(trace_index_by_end\)[\s\S]*?Granules: (\d+)\/(\d+)/.exec(text) ?? [];
        expect(Number(read), "granules read of the projection's").to.be.lessThan(Number(of));
        const withProjection = await manySink.query(page("1"), params);
        expect(withProjection).to.have.length(1800);
        expect(withProjection).to.deep.equal(await manySink.query(page("0"), params));
        const listed = await new TraceQueries(manySink).listTraces({
          from: at(params.from_us),
          to: at(params.to_us),
        });
        expect(listed.traces[0]?.startTimeUs).to.equal(atTrace(TRACES - 1));
      });
      it("slowestExecutions: one row per execution also when one execution's facts are the longest many times", async () => {
        const window = { from: at(atTrace(0)), to: at(atTrace(TRACES)) };
        const facts = (id: string, durationMs: number, event_id: string, n: number): Row =>
          executionRow(
            {
              ...envelope({
                event_time: atTrace(n),
                trace_id: "f".repeat(32),
                execution_id: id,
                agent_name: "a",
              }),
              event_id,
            },
            "COMPLETED",
            { duration_ms: durationMs },
          );
        const longest = facts("longest", 9000, "0190a5b6-0000-7000-8000-000000000001", 10);
        // The longest execution's record stored nine times (replays, not yet merged away), more than
        // the facts taken first for limit 2.
        await manySink.command(`SYSTEM STOP MERGES ${manyDb}.agent_hourly_facts`);
        for (let copy = 0; copy < 9; copy++)
          await manySink.insert("agent_executions", [longest], { dedupToken: `replay-${copy}` });
        await manySink.insert("agent_executions", [
          facts("second", 8000, "0190a5b6-0000-7000-8000-000000000002", 11),
          facts("third", 7000, "0190a5b6-0000-7000-8000-000000000003", 12),
        ]);
        const [stored] = await manySink.query<{ n: number }>(
          `SELECT count() AS n FROM ${manyDb}.agent_hourly_facts WHERE execution_id = 'longest'`,
        );
        expect(stored?.n).to.equal(9);
        const slowest = await new TraceQueries(manySink).slowestExecutions({ ...window, limit: 2 });
        expect(slowest.map((row) => [row.executionId, row.durationMs])).to.deep.equal([
          ["longest", 9000],
          ["second", 8000],
        ]);
      });
    });

    describe("getTrace", () => {
      it("nests sub-agents under their parent via parent_execution_id and correlations", async () => {
        const trace = await queries.getTrace(TRACE_A);
        expect(trace).to.not.equal(null);
        const roots = trace?.roots ?? [];
        expect(roots.map((node) => node.executionId)).to.deep.equal([EXEC.planner]);
        const planner = roots[0] as ExecutionNode;
        expect(planner.agentName).to.equal("planner");
        expect(planner.lifecycle).to.equal("COMPLETED");
        expect(planner.status).to.equal("completed");
        expect(planner.startedAtUs).to.equal(T0);
        expect(planner.endedAtUs).to.equal(T0 + 10 * SECOND);
        expect(planner.durationMs).to.equal(10000);
        expect(planner.inputSummary).to.equal("plan a trip");
        expect(planner.resultSummary).to.equal("trip planned");
        expect(planner.parentExecutionId).to.equal(null);
        expect(
          planner.children.map((child) => [child.executionId, child.relationship, child.lifecycle]),
        ).to.deep.equal([
          [EXEC.researcher, "SUBAGENT", "FAILED"],
          [EXEC.coder, "TOOL", "COMPLETED"],
        ]);
        const researcher = planner.children[0] as ExecutionNode;
        expect(researcher.errorMessage).to.equal("search backend down");
        expect(researcher.durationMs).to.equal(3000);
        expect(researcher.errors.map((error) => error["error_class"])).to.deep.equal([
          "BackendUnavailable",
          "BackendUnavailable",
        ]);
        expect(researcher.events.map((event) => event["event_kind"])).to.deep.equal([
          "TOOL_CALL_START",
          "TOOL_CALL_END",
        ]);
        expect(researcher.spans.map((span) => span["status_code"])).to.deep.equal(["ERROR"]);
        expect(researcher.metrics.map((metrics) => metrics["time_to_first_token_ms"])).to.deep.equal([300]);
        expect(planner.children[1]?.parentExecutionId).to.equal(EXEC.planner);
      });

      it("returns records in contract shape: epoch-micro times, null for empty ids, nested span events", async () => {
        const trace = await queries.getTrace(TRACE_A);
        const planner = trace?.roots[0] as ExecutionNode;
        expect(planner.events.map((event) => [event["event_kind"], event.event_time])).to.deep.equal([
          ["LLM_CALL_START", T0 + 100_000],
          ["LLM_FIRST_TOKEN", T0 + 220_000],
          ["LLM_CALL_END", T0 + 900_000],
        ]);
        const end = planner.events[2];
        expect(end?.["attributes"]).to.deep.equal({ "llm.model": "gpt-4o" });
        expect(end?.["payload_bytes"]).to.equal(2048);
        const rootSpan = planner.spans.find((span) => span["name"] === "agent planner");
        expect(rootSpan?.parent_span_id).to.equal(null);
        expect(rootSpan?.["start_time"]).to.equal(T0);
        expect(rootSpan?.["end_time"]).to.equal(T0 + 10 * SECOND);
        expect(rootSpan?.["events"]).to.deep.equal([
          { name: "plan.ready", time: T0 + SECOND, attributes: { steps: "3" } },
        ]);
        expect(rootSpan?.["links"]).to.deep.equal([
          { trace_id: TRACE_B, span_id: "2000000000000001", attributes: { reason: "follow-up" } },
        ]);
        expect(planner.metrics[0]?.["prompt_tokens"]).to.equal(1000);
        expect(
          trace?.unattached.events.map((event) => [event["event_kind"], event.execution_id]),
        ).to.deep.equal([["WEBSOCKET_NOTIFICATION", null]]);
        expect(trace?.correlations).to.have.length(2);
      });

      it("summarises the trace", async () => {
        const trace = await queries.getTrace(TRACE_A);
        expect(trace?.summary).to.deep.equal({
          traceId: TRACE_A,
          startTimeUs: T0,
          endTimeUs: T0 + 10 * SECOND,
          durationMs: 10000,
          rootAgent: "planner",
          userId: "user-1",
          hasError: true,
          executionCount: 3,
          spanCount: 4,
          eventCount: 7,
          errorCount: 3,
        });
      });

      it("gives the same tree with and without the trace index", async () => {
        for (const traceId of [TRACE_A, TRACE_B, TRACE_OLD]) {
          expect(await queries.getTrace(traceId, { useIndex: false })).to.deep.equal(
            await queries.getTrace(traceId),
          );
        }
      });

      it("bounds the record-table scans by the indexed time range", async () => {
        const [range] = await sink.query<{ from_us: number; to_us: number }>(
          `SELECT toUnixTimestamp64Micro(start_time) AS from_us, toUnixTimestamp64Micro(end_time) AS to_us
           FROM ${db}.traces WHERE trace_id = {t:String}`,
          { t: TRACE_OLD },
        );
        expect(range).to.deep.equal({ from_us: T0 - OLD_OFFSET, to_us: T0 - OLD_OFFSET + 50 * SECOND });
        const plan = await sink.query<{ explain: string }>(
          `EXPLAIN indexes = 1 SELECT toUnixTimestamp64Micro(t.event_time) AS event_time FROM ${db}.spans AS t
           WHERE t.trace_id = {t:String}
             AND t.event_time BETWEEN fromUnixTimestamp64Micro({f:Int64}, 'UTC') AND fromUnixTimestamp64Micro({e:Int64}, 'UTC')
           ORDER BY t.event_time, t.event_id LIMIT 1 BY t.event_id`,
          { t: TRACE_OLD, f: range?.from_us, e: range?.to_us },
        );
        const text = plan.map((line) => line.explain).join("\n");
        expect(text, "the other month's part is pruned").to.match(/Min-Max[\s\S]*?Parts: 1\/2/);
        expect(text).to.match(/PrimaryKey[\s\S]*toStartOfHour\(event_time\) in/);
      });

      it("returns null for an unknown trace, also for hostile input", async () => {
        expect(await queries.getTrace("f".repeat(32))).to.equal(null);
        expect(await queries.getTrace("' OR 1=1 --", { useIndex: false })).to.equal(null);
      });
    });

    it("findTraces: from the trace index, filtered by user and errors", async () => {
      const range = { from: at(T0 - OLD_OFFSET - HOUR), to: at(T0 + 2 * HOUR) };
      const all = await queries.findTraces(range);
      expect(all.map((trace) => trace.traceId)).to.deep.equal([TRACE_B, TRACE_A, TRACE_OLD]);
      expect(all[1]).to.deep.include({
        rootAgent: "planner",
        userId: "user-1",
        hasError: true,
        spanCount: 4,
        executionCount: 3,
      });
      expect(
        (await queries.findTraces({ ...range, userId: "user-2" })).map((trace) => trace.traceId),
      ).to.deep.equal([TRACE_B]);
      expect(
        (await queries.findTraces({ ...range, onlyErrors: true })).map((trace) => trace.traceId),
      ).to.deep.equal([TRACE_A, TRACE_OLD]);
    });
  });
}
