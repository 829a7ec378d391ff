import { ClickHouseTraceSchema } from "@tracehouse/clickhouse";
import type { Command } from "commander";
import { addSchemaOptions, schemaOptionsFrom, withSink } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { addClickHouseOptions } from "../options.js";
import type { RawOptions } from "../options.js";
import { safeJson } from "../terminal-text.js";

export function registerMigrate(program: Command, io: Io): void {
  const migrate = program
    .command("migrate")
    .description(
      "apply the ClickHouse migrations: create the tracehouse tables and views (safe to run again)",
    )
    .option("--json", "print the report as JSON");
  addSchemaOptions(migrate);
  addClickHouseOptions(migrate).action((raw: RawOptions, command: Command) =>
    withSink(raw, command, async (sink) => {
      const report = await new ClickHouseTraceSchema(sink, schemaOptionsFrom(raw)).createTables();
      io.out(
        raw.json === true
          ? safeJson({ database: sink.database, ...report }) + "\n"
          : `database ${sink.database}: applied [${report.applied.join(", ")}], already applied [${report.alreadyApplied.join(", ")}]\n`,
      );
    }),
  );
}
