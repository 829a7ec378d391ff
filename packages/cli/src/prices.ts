import { loadPriceTable } from "@tracehouse/clickhouse";
import type { CostSummary, PriceTable } from "@tracehouse/clickhouse";
import { Option } from "commander";
import type { Command } from "commander";
import type { RawOptions } from "./options.js";

/** `--prices <file>`: the JSON price file over the default model prices. */
export function addPricesOption(command: Command): Command {
  return command.addOption(
    new Option(
      "--prices <file>",
      'JSON model prices in USD per million tokens over the defaults: {"model": {"input": 2.5, "output": 10, "cachedInput": 1.25}}',
    ).env("TRACEHOUSE_PRICES"),
  );
}

export function pricesFrom(raw: RawOptions): PriceTable {
  return loadPriceTable(typeof raw.prices === "string" ? raw.prices : undefined);
}

const count = (n: number): string => n.toLocaleString("en-US");

/** `$0.0123`, with fewer digits for larger sums. */
export function formatUsd(usd: number): string {
  if (usd === 0) return "$0";
  if (usd >= 100) return `$${usd.toFixed(0)}`;
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  return `$${usd.toPrecision(3)}`;
}

/** Tokens and cost on one line; unpriced tokens are said, never priced. */
export function formatCost(cost: CostSummary): string | null {
  if (cost.inputTokens + cost.outputTokens === 0) return null;
  const parts = [`tokens ${count(cost.inputTokens)} in / ${count(cost.outputTokens)} out`];
  if (cost.cachedInputTokens > 0) parts.push(`${count(cost.cachedInputTokens)} cached`);
  if (cost.costUsd !== null) parts.push(`cost ${formatUsd(cost.costUsd)}`);
  if (cost.unpricedTokens > 0) parts.push(`${count(cost.unpricedTokens)} tokens without a price`);
  return parts.join(" · ");
}
