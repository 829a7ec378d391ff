/**
 * A small cache keyed by a pair of strings, without building a combined key. When it
 * holds `maxEntries` it starts over; keys longer than `maxKeyLength` are not cached, which
 * bounds its memory.
 */
export class PairCache<V> {
  readonly #entries = new Map<string, Map<string, V>>();
  #size = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxKeyLength: number,
  ) {}

  get(first: string, second: string): V | undefined {
    return this.#entries.get(first)?.get(second);
  }

  set(first: string, second: string, value: V): void {
    if (first.length > this.maxKeyLength || second.length > this.maxKeyLength) return;
    if (this.#size >= this.maxEntries) {
      this.#entries.clear();
      this.#size = 0;
    }
    let inner = this.#entries.get(first);
    if (inner === undefined) {
      inner = new Map();
      this.#entries.set(first, inner);
    }
    if (!inner.has(second)) this.#size++;
    inner.set(second, value);
  }

  get size(): number {
    return this.#size;
  }
}
