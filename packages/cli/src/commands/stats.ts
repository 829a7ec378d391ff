import { ClickHouseTraceSchema } from "@tracehouse/clickhouse";
import { RECORD_TABLES } from "@tracehouse/worker";
import type { Command } from "commander";
import { withSink } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { addClickHouseOptions } from "../options.js";
import type { RawOptions } from "../options.js";
import { escapeControl, safeJson } from "../terminal-text.js";

export function registerStats(program: Command, io: Io): void {
  const stats = program
    .command("stats")
    .description("rows, distinct records, parts and sizes of the tracehouse tables")
    .option("--json", "print the statistics as JSON");
  addClickHouseOptions(stats).action((raw: RawOptions, command: Command) =>
    withSink(raw, command, async (sink) => {
      const tables = await new ClickHouseTraceSchema(sink).getTableStats();
      const records: Record<string, number> = {};
      for (const table of RECORD_TABLES) {
        if (tables[table] === undefined) continue;
        const [row] = await sink.query<{ n: number }>(
          `SELECT uniqExact(event_id) AS n FROM ${sink.database}.${table}`,
        );
        records[table] = Number(row?.n ?? 0);
      }
      if (raw.json === true) {
        io.out(safeJson({ database: sink.database, tables, records }) + "\n");
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
    }),
  );
}
