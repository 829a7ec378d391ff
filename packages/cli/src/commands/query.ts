import type { Command } from "commander";
import { withSink } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { addClickHouseOptions } from "../options.js";
import type { RawOptions } from "../options.js";

export function registerQuery(program: Command, io: Io): void {
  const query = program
    .command("query")
    .argument("<sql>", "a SELECT; tables written database-qualified, e.g. tracehouse.agent_events")
    .description(
      "run SQL on the sink and print rows as JSON lines (the embedded engine's data directory has one reader at a time)",
    );
  addClickHouseOptions(query).action((sql: string, raw: RawOptions, command: Command) =>
    withSink(raw, command, async (sink) => {
      for (const row of await sink.query(sql)) io.out(JSON.stringify(row) + "\n");
    }),
  );
}
