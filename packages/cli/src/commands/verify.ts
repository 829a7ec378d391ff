import { ClickHouseTraceSchema } from "@tracehouse/clickhouse";
import type { Command } from "commander";
import { ExitCode, ExitWith, addClickHouseOptions, withSink } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import type { RawOptions } from "../options/spec.js";
import { escapeControl, safeJson } from "../terminal-text.js";

export function registerVerify(program: Command, io: Io): void {
  const verify = program
    .command("verify")
    .description(
      "check that every tracehouse table, view, column and index exists; exit 1 when something is missing",
    )
    .option("--json", "print the verification as JSON");
  addClickHouseOptions(verify).action((raw: RawOptions, command: Command) =>
    withSink(raw, command, async (sink) => {
      const verification = await new ClickHouseTraceSchema(sink).verifySchema();
      if (raw.json === true) io.out(safeJson(verification) + "\n");
      else {
        for (const [name, table] of Object.entries(verification.tables)) {
          io.out(
            `${table.ok ? "ok     " : "MISSING"} ${escapeControl(`${name}${table.ok ? "" : `: ${table.missing.join(", ")}`}`)}\n`,
          );
        }
        io.out(
          verification.ok
            ? `schema of ${sink.database} is complete\n`
            : `schema of ${sink.database} is incomplete\n`,
        );
      }
      if (!verification.ok) throw new ExitWith(ExitCode.Failed);
    }),
  );
}
