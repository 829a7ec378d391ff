import type { PriceTable } from "../cost.js";
import type { Sink } from "../sink.js";

/** The table SQL reads prices from (migration 0009); `model_prices_current` is its latest generation. */
export const PRICES_TABLE = "model_prices";

/**
 * Writes `prices` as a new generation of the model_prices table, for SQL that prices tokens at
 * query time (the Grafana dashboard reads model_prices_current). Returns the generation (epoch µs,
 * increasing within a process).
 * A table without a single price writes nothing: SQL keeps the previous generation.
 */
let lastGeneration = 0;

export async function writePriceTable(sink: Sink, prices: PriceTable, now = Date.now()): Promise<number> {
  const generation = Math.max(now * 1000, lastGeneration + 1);
  lastGeneration = generation;
  await sink.insert(
    PRICES_TABLE,
    [...prices].map(([model, price]) => ({
      generation,
      model,
      input_per_million: price.inputPerMillion,
      output_per_million: price.outputPerMillion,
      cached_input_per_million: price.cachedInputPerMillion,
    })),
  );
  return generation;
}
