/** `values` sorted ascending, once: a typed array sorts numbers natively, far faster than a comparator. */
function sortedCopy(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

/** The `q` quantile (0..1) of ascending `sorted` by the nearest-rank method; null for none. */
function rankOf(sorted: Float64Array, q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1] ?? null;
}

/** The `q` quantile (0..1) of `values` by the nearest-rank method; null for no values. */
export function quantile(values: readonly number[], q: number): number | null {
  return rankOf(sortedCopy(values), q);
}

export interface Distribution {
  readonly count: number;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly p999: number | null;
  readonly max: number | null;
}

/** Count, p50, p99, p99.9 and max of `values`, sorted once. */
export function distribution(values: readonly number[]): Distribution {
  const sorted = sortedCopy(values);
  return {
    count: values.length,
    p50: rankOf(sorted, 0.5),
    p99: rankOf(sorted, 0.99),
    p999: rankOf(sorted, 0.999),
    max: rankOf(sorted, 1),
  };
}
