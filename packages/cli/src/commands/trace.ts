import { TraceQueries } from "@tracehouse/clickhouse";
import type { Command } from "commander";
import { ExitCode, ExitWith, clusterOption, withSink } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { addClickHouseOptions } from "../options.js";
import type { RawOptions } from "../options.js";
import { addPricesOption, pricesFrom } from "../prices.js";
import { renderTraceTree } from "../trace-tree.js";
import { escapeControl, safeJson } from "../terminal-text.js";

export function registerTrace(program: Command, io: Io): void {
  const trace = program
    .command("trace")
    .argument("<trace-id>", "32 hex characters")
    .description(
      "print a trace's execution tree with timings, events, errors, metrics, spans, tokens and cost",
    )
    .option("--json", "print the tree as JSON");
  addPricesOption(trace);
  addClickHouseOptions(trace.addOption(clusterOption())).action(
    (traceId: string, raw: RawOptions, command: Command) =>
      withSink(raw, command, async (sink) => {
        const tree = await new TraceQueries(sink, { prices: pricesFrom(raw) }).getTrace(
          traceId.trim().toLowerCase(),
        );
        if (tree === null) {
          io.err(`trace ${escapeControl(traceId)} not found in ${sink.database}\n`);
          throw new ExitWith(ExitCode.Failed);
        }
        io.out(raw.json === true ? safeJson(tree, 2) + "\n" : renderTraceTree(tree));
      }),
  );
}
