import { ClickHouseTraceSchema, RECORD_TABLES, TraceQueries } from "@tracehouse/clickhouse";
import type { Command } from "commander";
import { addClickHouseOptions, withSink } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { CLUSTER } from "../options/clickhouse.js";
import { addOptions, optionTable, readOptions, valueSources } from "../options/spec.js";
import type { RawOptions } from "../options/spec.js";
import { PRICES, pricesFrom } from "../options/ui.js";
import { formatUsd } from "../prices.js";
import { escapeControl, safeJson } from "../terminal-text.js";

export const STATS = optionTable("Statistics", {
  hours: {
    type: "number",
    flag: "hours",
    env: "TRACEHOUSE_STATS_HOURS",
    default: 24,
    above: 0,
    doc: "window of the per-agent figures, ending now",
  },
});

export function registerStats(program: Command, io: Io): void {
  const stats = program
    .command("stats")
    .description(
      "rows, distinct records, parts and sizes of the tracehouse tables; executions, tokens and cost per agent",
    )
    .option("--json", "print the statistics as JSON");
  addOptions(stats, STATS);
  addOptions(stats, PRICES);
  addClickHouseOptions(addOptions(stats, CLUSTER)).action((raw: RawOptions, command: Command) => {
    const sources = valueSources(command);
    const { hours } = readOptions(STATS, raw, sources);
    const prices = pricesFrom(raw, sources);
    return withSink(raw, command, async (sink) => {
      const tables = await new ClickHouseTraceSchema(sink).getTableStats();
      const records: Record<string, number> = {};
      for (const table of RECORD_TABLES) {
        if (tables[table] === undefined) continue;
        const [row] = await sink.query<{ n: number }>(
          `SELECT uniqExact(event_id) AS n FROM ${sink.database}.${table}`,
        );
        records[table] = Number(row?.n ?? 0);
      }
      const to = new Date();
      const agents = await new TraceQueries(sink, { prices }).agentCostStats({
        from: new Date(to.getTime() - hours * 3_600_000),
        to,
      });
      if (raw.json === true) {
        io.out(safeJson({ database: sink.database, tables, records, hours, agents }) + "\n");
        return;
      }
      io.out(`database ${sink.database}\n`);
      io.out(
        `${"table".padEnd(28)}${"records".padStart(12)}${"rows".padStart(12)}${"parts".padStart(7)}${"on disk".padStart(12)}\n`,
      );
      for (const [name, table] of Object.entries(tables)) {
        const distinct = records[name] === undefined ? "" : String(records[name]);
        const mb = `${(table.bytesOnDisk / 1024 / 1024).toFixed(2)} MB`;
        io.out(
          `${escapeControl(name).padEnd(28)}${distinct.padStart(12)}${String(table.rows).padStart(12)}${String(table.parts).padStart(7)}${mb.padStart(12)}\n`,
        );
      }
      io.out(`\nagents, last ${hours} h\n`);
      io.out(
        `${"agent".padEnd(28)}${"started".padStart(9)}${"failed".padStart(8)}${"tokens in".padStart(12)}${"tokens out".padStart(12)}${"cost".padStart(12)}\n`,
      );
      for (const agent of agents) {
        const { cost } = agent;
        const usd =
          cost.costUsd === null ? "–" : formatUsd(cost.costUsd) + (cost.unpricedTokens > 0 ? "+" : "");
        io.out(
          `${escapeControl(agent.agentName).padEnd(28)}${String(agent.started).padStart(9)}${String(agent.failures).padStart(8)}${String(cost.inputTokens).padStart(12)}${String(cost.outputTokens).padStart(12)}${usd.padStart(12)}\n`,
        );
      }
      if (agents.some((agent) => agent.cost.unpricedTokens > 0))
        io.out("(– or +: tokens of models without a price; add them with --prices)\n");
    });
  });
}
