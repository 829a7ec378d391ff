import type { Command } from "commander";
import { Option } from "commander";
import { clusterOption, withSink } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { addClickHouseOptions } from "../options.js";
import type { RawOptions } from "../options.js";
import { addPricesOption, pricesFrom } from "../prices.js";
import { addUiServerOptions, startUiFrom, uiPortFrom } from "../ui-options.js";

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
    )
    .addOption(
      new Option("--ui-port <port>", "port of the trace explorer; 0 picks one")
        .env("TRACEHOUSE_UI_PORT")
        .default("7788"),
    );
  addUiServerOptions(ui);
  addPricesOption(ui);
  addClickHouseOptions(ui.addOption(clusterOption())).action((raw: RawOptions, command: Command) =>
    withSink(raw, command, async (sink, logger) => {
      const server = await startUiFrom(raw, sink, pricesFrom(raw), logger, uiPortFrom(raw) ?? 7788);
      io.out(`trace explorer on ${server.url}/traces (database ${sink.database}); Ctrl-C stops it\n`);
      await untilSignal();
      await server.close();
    }),
  );
}
