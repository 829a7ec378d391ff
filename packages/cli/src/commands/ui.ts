import type { Command } from "commander";
import { addClickHouseOptions, withSink } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { CLUSTER } from "../options/clickhouse.js";
import { addOptions, valueSources } from "../options/spec.js";
import type { RawOptions } from "../options/spec.js";
import { PRICES, UI_PORT, addUiServerOptions, pricesFrom, startUi, uiSettingsFrom } from "../options/ui.js";

/** Resolves on the first SIGINT or SIGTERM. */
const untilSignal = (): Promise<NodeJS.Signals> =>
  new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals): void => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
      resolve(signal);
    };
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
  });

export function registerUi(program: Command, io: Io): void {
  const ui = program
    .command("ui")
    .description(
      "serve the trace explorer (traces, waterfall, agents, errors, cost) over a ClickHouse server or an embedded data directory, until SIGINT/SIGTERM",
    );
  addOptions(ui, UI_PORT);
  addUiServerOptions(ui);
  addOptions(ui, PRICES);
  addClickHouseOptions(addOptions(ui, CLUSTER)).action((raw: RawOptions, command: Command) => {
    const sources = valueSources(command);
    const settings = uiSettingsFrom(raw, sources, UI_PORT)!;
    const prices = pricesFrom(raw, sources);
    return withSink(raw, command, async (sink, logger) => {
      const server = await startUi(settings, sink, prices, logger);
      io.out(`trace explorer on ${server.url}/traces (database ${sink.database}); Ctrl-C stops it\n`);
      await untilSignal();
      await server.close();
    });
  });
}
