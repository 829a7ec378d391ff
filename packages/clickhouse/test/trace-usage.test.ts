import { expect } from "chai";
import { ClickHouseTraceSchema, EMPTY_COST, mergePrices, TraceQueries } from "../src/index.js";
import type { ExecutionNode, Sink } from "../src/index.js";
import { costByKey, mergeByModel, summariseCost, usageBy } from "../src/queries/usage.js";
import { embeddedTarget, uniqueDatabase } from "./support/engine.js";
import { executionRow, HOUR, llmEventRow, SECOND, T0, tokenMetricsRow } from "./support/fixture.js";
import { insertRows } from "./support/insert.js";
import { emptyRows, envelope } from "./support/records.js";

const TRACE = "d8d8d8d8d8d8d8d8d8d8d8d8d8d8d8d8";

/**
 * A trace's cost comes from the records getTrace reads (usageOfRecords); it must equal what the
 * summary (usageBy, migration 0008) gives for the same trace, on records that test each part of the rule.
 */
describe("a trace's cost from its records (embedded engine)", () => {
  let sink: Sink;
  let db: string;
  const prices = mergePrices(
    new Map([["house-model", { inputPerMillion: 1, outputPerMillion: 2, cachedInputPerMillion: 0.25 }]]),
  );

  before(async () => {
    db = uniqueDatabase("trace_usage");
    sink = embeddedTarget.makeSink(db);
    await new ClickHouseTraceSchema(sink).createTables();
    const rows = emptyRows();
    const at = (id: string) => ({ trace_id: TRACE, execution_id: id, agent_name: "agent" });
    for (const id of ["exec-a", "exec-Z", "exec-b", "exec-c"])
      rows.agent_executions.push(executionRow(envelope({ ...at(id), event_time: T0 }), "STARTED"));
    // tokens in two hours, one record without tokens, cached given as "+12" and "1.5" (12 and 0)
    const hours = at("exec-a");
    rows.performance_metrics.push(
      tokenMetricsRow(hours, T0 + SECOND, null, 5),
      tokenMetricsRow(hours, T0 + HOUR + SECOND, 700, null),
      tokenMetricsRow(hours, T0 + HOUR + 2 * SECOND, null, null),
    );
    rows.agent_events.push(
      llmEventRow(hours, T0, "LLM_CALL_START", "gpt-4o"),
      llmEventRow(hours, T0 + HOUR, "LLM_CALL_END", "gpt-4o", "+12"),
      llmEventRow(hours, T0 + HOUR, "LLM_CALL_END", "gpt-4o", "1.5"),
    );
    // one model called twice; cached above the input, and one beyond UInt64 (0)
    const capped = at("exec-Z");
    rows.performance_metrics.push(tokenMetricsRow(capped, T0 + 2 * SECOND, 100, 10));
    rows.agent_events.push(
      llmEventRow(capped, T0, "LLM_CALL_START", "house-model"),
      llmEventRow(capped, T0 + SECOND, "LLM_CALL_START", "house-model"),
      llmEventRow(capped, T0 + SECOND, "LLM_CALL_END", "house-model", "900"),
      llmEventRow(capped, T0 + SECOND, "LLM_CALL_END", "house-model", "18446744073709551616"),
    );
    // two models: unpriced; a record stored twice counts once
    const mixed = at("exec-b");
    const twice = tokenMetricsRow(mixed, T0 + 3 * SECOND, 40, 4);
    rows.performance_metrics.push(twice);
    rows.agent_events.push(
      llmEventRow(mixed, T0, "LLM_CALL_START", "gpt-4o"),
      llmEventRow(mixed, T0, "LLM_CALL_START", "gpt-4o-mini"),
    );
    // LLM calls without metrics: no usage; metrics without an execution: the execution ''
    rows.agent_events.push(llmEventRow(at("exec-c"), T0, "LLM_CALL_START", "gpt-4o"));
    rows.performance_metrics.push(
      tokenMetricsRow({ trace_id: TRACE, agent_name: "agent" }, T0 + SECOND, 3, 1),
    );
    await insertRows(sink, rows);
    await sink.insert("performance_metrics", [twice]);
  });

  after(async () => {
    await sink.command(`DROP DATABASE IF EXISTS ${db}`);
    await sink.close();
  });

  it("equals the summary's usage, per execution and for the trace", async () => {
    const tree = (await new TraceQueries(sink, { prices }).getTrace(TRACE))!;
    const summary = await usageBy(sink, prices, {
      group: "execution_id",
      traceIds: [TRACE],
      from_us: T0 - HOUR,
      to_us: T0 + 3 * HOUR,
    });
    expect(summary.map((row) => row.key)).to.deep.equal(["", "exec-Z", "exec-a", "exec-b"]);
    expect(tree.cost).to.deep.equal(summariseCost(mergeByModel(summary.map((row) => row.usage))));
    const byExecution = costByKey(summary);
    const nodes: ExecutionNode[] = [];
    const visit = (node: ExecutionNode): void => {
      nodes.push(node);
      node.children.forEach(visit);
    };
    tree.roots.forEach(visit);
    expect(nodes.map((node) => node.executionId).sort()).to.deep.equal([
      "exec-Z",
      "exec-a",
      "exec-b",
      "exec-c",
    ]);
    for (const node of nodes)
      expect(node.cost).to.deep.equal(byExecution.get(node.executionId) ?? EMPTY_COST);
    expect(byExecution.get("exec-a")!.cachedInputTokens).to.equal(12);
    expect(byExecution.get("exec-Z")!.cachedInputTokens).to.equal(100);
    expect(byExecution.get("exec-b")!.inputTokens).to.equal(40);
  });
});
