import { ClickHouseTraceSchema, writePriceTable } from "@tracehouse/clickhouse";
import type { Command } from "commander";
import { addSchemaOptions, schemaOptionsFrom, withSink } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { addClickHouseOptions } from "../options.js";
import type { RawOptions } from "../options.js";
import { addPricesOption, pricesFrom } from "../prices.js";
import { safeJson } from "../terminal-text.js";

export function registerMigrate(program: Command, io: Io): void {
  const migrate = program
    .command("migrate")
    .description(
      "apply the ClickHouse migrations: create the tracehouse tables and views (safe to run again), and write the model price table SQL prices tokens with (the defaults with --prices over them)",
    )
    .option("--json", "print the report as JSON");
  addPricesOption(migrate);
  addSchemaOptions(migrate);
  addClickHouseOptions(migrate).action((raw: RawOptions, command: Command) =>
    withSink(raw, command, async (sink) => {
      const prices = pricesFrom(raw);
      const report = await new ClickHouseTraceSchema(sink, schemaOptionsFrom(raw)).createTables();
      await writePriceTable(sink, prices);
      io.out(
        raw.json === true
          ? safeJson({ database: sink.database, ...report, prices: prices.size }) + "\n"
          : `database ${sink.database}: applied [${report.applied.join(", ")}], already applied [${report.alreadyApplied.join(", ")}], ${prices.size} model prices written\n`,
      );
    }),
  );
}
