import type { CostSummary } from "@tracehouse/clickhouse";

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
