import { TraceQueries } from "@tracehouse/clickhouse";
import type { Command } from "commander";
import { ExitCode, ExitWith, addClickHouseOptions, withSink } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { CLUSTER } from "../options/clickhouse.js";
import { addOptions, valueSources } from "../options/spec.js";
import type { RawOptions } from "../options/spec.js";
import { PRICES, pricesFrom } from "../options/ui.js";
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
  addOptions(trace, PRICES);
  addClickHouseOptions(addOptions(trace, CLUSTER)).action(
    (traceId: string, raw: RawOptions, command: Command) => {
      const prices = pricesFrom(raw, valueSources(command));
      return withSink(raw, command, async (sink) => {
        const tree = await new TraceQueries(sink, { prices }).getTrace(traceId.trim().toLowerCase());
        if (tree === null) {
          io.err(`trace ${escapeControl(traceId)} not found in ${sink.database}\n`);
          throw new ExitWith(ExitCode.Failed);
        }
        io.out(raw.json === true ? safeJson(tree, 2) + "\n" : renderTraceTree(tree));
      });
    },
  );
}
