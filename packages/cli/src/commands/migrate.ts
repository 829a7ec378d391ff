import { ClickHouseTraceSchema, writePriceTable } from "@tracehouse/clickhouse";
import type { Command } from "commander";
import { addClickHouseOptions, withSink } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { SCHEMA, schemaOptionsFrom } from "../options/clickhouse.js";
import { addOptions, valueSources } from "../options/spec.js";
import type { RawOptions } from "../options/spec.js";
import { PRICES, pricesFrom } from "../options/ui.js";
import { safeJson } from "../terminal-text.js";

export function registerMigrate(program: Command, io: Io): void {
  const migrate = program
    .command("migrate")
    .description(
      "apply the ClickHouse migrations: create the tracehouse tables and views (safe to run again), and write the model price table SQL prices tokens with (the defaults with --prices over them)",
    )
    .option("--json", "print the report as JSON");
  addOptions(migrate, PRICES);
  addOptions(migrate, SCHEMA);
  addClickHouseOptions(migrate).action((raw: RawOptions, command: Command) =>
    withSink(raw, command, async (sink) => {
      const sources = valueSources(command);
      const prices = pricesFrom(raw, sources);
      const report = await new ClickHouseTraceSchema(sink, schemaOptionsFrom(raw, sources)).createTables();
      await writePriceTable(sink, prices);
      io.out(
        raw.json === true
          ? safeJson({ database: sink.database, ...report, prices: prices.size }) + "\n"
          : `database ${sink.database}: applied [${report.applied.join(", ")}], already applied [${report.alreadyApplied.join(", ")}], ${prices.size} model prices written\n`,
      );
    }),
  );
}
