import type { CostSummary } from "./api.js";

export function duration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "–";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60_000)} min ${String(Math.round((ms % 60_000) / 1000)).padStart(2, "0")} s`;
}

export const count = (n: number): string => n.toLocaleString("en-US");

export function usd(value: number): string {
  if (value === 0) return "$0";
  if (value >= 100) return `$${value.toFixed(0)}`;
  if (value >= 1) return `$${value.toFixed(2)}`;
  return `$${value.toPrecision(3)}`;
}

/** The cost cell: dollars for priced tokens; unpriced tokens are said, never priced. */
export function cost(summary: CostSummary): string {
  if (summary.costUsd === null) return summary.unpricedTokens > 0 ? "no price" : "–";
  return summary.unpricedTokens > 0 ? `${usd(summary.costUsd)} + unpriced` : usd(summary.costUsd);
}

export const tokens = (summary: CostSummary): string =>
  summary.inputTokens + summary.outputTokens === 0
    ? "–"
    : `${count(summary.inputTokens)} / ${count(summary.outputTokens)}`;

export function time(us: number): string {
  return new Date(us / 1000).toISOString().replace("T", " ").replace("Z", "").slice(0, 23);
}
