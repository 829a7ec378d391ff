/** A growing list of numeric samples (latencies) with exact percentiles. */
export class Samples {
  #values = new Float64Array(1024);
  #count = 0;
  #sorted = true;

  get count(): number {
    return this.#count;
  }

  add(value: number): void {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#count++] = value;
    this.#sorted = false;
  }

  /** The value at quantile `q` (0..1, nearest rank); NaN when empty. */
  percentile(q: number): number {
    if (this.#count === 0) return Number.NaN;
    const view = this.#values.subarray(0, this.#count);
    if (!this.#sorted) {
      view.sort();
      this.#sorted = true;
    }
    const rank = Math.min(this.#count - 1, Math.max(0, Math.ceil(q * this.#count) - 1));
    return view[rank]!;
  }

  max(): number {
    return this.percentile(1);
  }

  mean(): number {
    if (this.#count === 0) return Number.NaN;
    let sum = 0;
    for (let i = 0; i < this.#count; i++) sum += this.#values[i]!;
    return sum / this.#count;
  }

  summary(): LatencySummary {
    return {
      count: this.#count,
      p50: this.percentile(0.5),
      p99: this.percentile(0.99),
      p999: this.percentile(0.999),
      max: this.max(),
      mean: this.mean(),
    };
  }
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}
