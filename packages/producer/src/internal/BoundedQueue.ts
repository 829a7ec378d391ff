import type { Outbound } from "./outbound.js";

/** FIFO ring buffer bounded by record count and bytes. */
export class BoundedQueue {
  readonly #slots: (Outbound | undefined)[];
  readonly #maxBytes: number;
  #head = 0;
  #length = 0;
  #bytes = 0;

  constructor(maxRecords: number, maxBytes: number) {
    this.#slots = new Array<Outbound | undefined>(maxRecords).fill(undefined);
    this.#maxBytes = maxBytes;
  }

  get length(): number {
    return this.#length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** False, leaving the queue unchanged, when the record does not fit. */
  push(record: Outbound): boolean {
    const capacity = this.#slots.length;
    if (this.#length === capacity || this.#bytes + record.size > this.#maxBytes) return false;
    let tail = this.#head + this.#length;
    if (tail >= capacity) tail -= capacity;
    this.#slots[tail] = record;
    this.#length += 1;
    this.#bytes += record.size;
    return true;
  }

  /** Removes and returns up to `maxRecords` oldest records totalling at most `maxBytes` (at least one record). */
  take(maxRecords: number, maxBytes: number): Outbound[] {
    const out: Outbound[] = [];
    const capacity = this.#slots.length;
    let bytes = 0;
    while (this.#length > 0 && out.length < maxRecords) {
      const record = this.#slots[this.#head] as Outbound;
      if (out.length > 0 && bytes + record.size > maxBytes) break;
      out.push(record);
      bytes += record.size;
      this.#slots[this.#head] = undefined;
      this.#head = this.#head + 1 === capacity ? 0 : this.#head + 1;
      this.#length -= 1;
      this.#bytes -= record.size;
    }
    return out;
  }

  takeAll(): Outbound[] {
    return this.take(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  }
}
