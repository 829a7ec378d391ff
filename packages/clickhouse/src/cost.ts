import { readFileSync } from "node:fs";
import { ConfigError } from "@tracehouse/schemas";

/** Prices of one model in US dollars per million tokens. */
export interface ModelPrice {
  readonly inputPerMillion: number;
  readonly outputPerMillion: number;
  /** Input tokens served from the provider's cache. Default: the input price. */
  readonly cachedInputPerMillion: number;
}

/** Model name → price. Names are matched exactly, or with a trailing date (`-2024-08-06`, `-20250514`) removed. */
export type PriceTable = ReadonlyMap<string, ModelPrice>;

const price = (input: number, output: number, cachedInput: number): ModelPrice => ({
  inputPerMillion: input,
  outputPerMillion: output,
  cachedInputPerMillion: cachedInput,
});

/**
 * List prices of common models (USD per million tokens, standard tier, as the providers published
 * them in 2025). Override or extend them with a price file; a model that is in neither has no cost.
 */
export const DEFAULT_PRICES: PriceTable = new Map([
  ["gpt-4o", price(2.5, 10, 1.25)],
  ["gpt-4o-mini", price(0.15, 0.6, 0.075)],
  ["gpt-4.1", price(2, 8, 0.5)],
  ["gpt-4.1-mini", price(0.4, 1.6, 0.1)],
  ["gpt-4.1-nano", price(0.1, 0.4, 0.025)],
  ["gpt-5", price(1.25, 10, 0.125)],
  ["gpt-5-mini", price(0.25, 2, 0.025)],
  ["gpt-5-nano", price(0.05, 0.4, 0.005)],
  ["o3", price(2, 8, 0.5)],
  ["o4-mini", price(1.1, 4.4, 0.275)],
  ["claude-opus-4-1", price(15, 75, 1.5)],
  ["claude-sonnet-4", price(3, 15, 0.3)],
  ["claude-sonnet-4-5", price(3, 15, 0.3)],
  ["claude-3-7-sonnet", price(3, 15, 0.3)],
  ["claude-3-5-haiku", price(0.8, 4, 0.08)],
  ["claude-haiku-4-5", price(1, 5, 0.1)],
  ["gemini-2.5-pro", price(1.25, 10, 0.31)],
  ["gemini-2.5-flash", price(0.3, 2.5, 0.075)],
  ["gemini-2.0-flash", price(0.1, 0.4, 0.025)],
]);

/** A trailing release date on a model name; prices are looked up without it. */
export const MODEL_DATE_SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8})$/;

/** The name a model is priced under: lower case, without a trailing release date. */
export const priceKey = (model: string): string => model.trim().toLowerCase().replace(MODEL_DATE_SUFFIX, "");

function priceField(model: string, entry: Record<string, unknown>, field: string): number | undefined {
  const value = entry[field];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
    throw new ConfigError(`price file: ${model}.${field} must be a non-negative number`);
  return value;
}

/**
 * Parses a price file's JSON: `{ "model": { "input": 2.5, "output": 10, "cachedInput": 1.25 } }`,
 * USD per million tokens; `cachedInput` defaults to `input`. `null` for a model removes its default.
 */
export function parsePriceFile(text: string, source = "price file"): Map<string, ModelPrice | null> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${source} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new ConfigError(`${source} must be a JSON object of model → prices`);
  const out = new Map<string, ModelPrice | null>();
  for (const [model, raw] of Object.entries(parsed)) {
    if (raw === null) {
      out.set(priceKey(model), null);
      continue;
    }
    if (typeof raw !== "object" || Array.isArray(raw))
      throw new ConfigError(`${source}: ${model} must be an object with input and output prices, or null`);
    const entry = raw as Record<string, unknown>;
    const input = priceField(model, entry, "input");
    const output = priceField(model, entry, "output");
    if (input === undefined || output === undefined)
      throw new ConfigError(`${source}: ${model} needs both input and output (USD per million tokens)`);
    out.set(priceKey(model), price(input, output, priceField(model, entry, "cachedInput") ?? input));
  }
  return out;
}

/** The defaults with a price file's entries over them. */
export function mergePrices(
  overrides: ReadonlyMap<string, ModelPrice | null>,
  base: PriceTable = DEFAULT_PRICES,
): PriceTable {
  const table = new Map(base);
  for (const [model, value] of overrides) {
    if (value === null) table.delete(model);
    else table.set(model, value);
  }
  return table;
}

/** The default prices, overridden and extended by the JSON file at `path` when one is given. */
export function loadPriceTable(path?: string): PriceTable {
  if (path === undefined || path === "") return DEFAULT_PRICES;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read price file ${path}`, { cause: error });
  }
  return mergePrices(parsePriceFile(text, `price file ${path}`));
}

/** The price of `model`, or null when the table does not know it. */
export function findPrice(table: PriceTable, model: string | null): ModelPrice | null {
  if (model === null || model === "") return null;
  return table.get(priceKey(model)) ?? null;
}

/** Token counts of LLM usage; `cachedInput` is the part of `input` served from cache. */
export interface TokenCounts {
  readonly input: number;
  readonly output: number;
  readonly cachedInput: number;
}

/** Cost in USD of `tokens` at `price`. */
export function costOf(price: ModelPrice, tokens: TokenCounts): number {
  const cached = Math.min(tokens.cachedInput, tokens.input);
  return (
    ((tokens.input - cached) * price.inputPerMillion +
      cached * price.cachedInputPerMillion +
      tokens.output * price.outputPerMillion) /
    1_000_000
  );
}
