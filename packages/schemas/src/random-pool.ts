import { randomFill, randomFillSync } from "node:crypto";

/**
 * Bytes from the operating system's CSPRNG, handed out in slices of one pooled buffer so an id
 * costs a slice rather than a system call. A second buffer is filled on the thread pool while the
 * first is used, so the caller that empties the pool swaps buffers instead of waiting for the
 * CSPRNG (it fills synchronously only when the spare is not ready yet).
 */
export class RandomPool {
  #bytes: Buffer;
  #spare: Buffer;
  #spareReady = false;
  #spareFilling = false;
  #offset = 0;

  constructor(readonly size: number) {
    this.#bytes = randomFillSync(Buffer.allocUnsafe(size));
    this.#spare = Buffer.allocUnsafe(size);
    this.#fillSpare();
  }

  /** The pool's current buffer; valid from an offset `take` returned until the next `take`. */
  get bytes(): Buffer {
    return this.#bytes;
  }

  /** Where `length` fresh bytes start in `bytes` (at most `size`). */
  take(length: number): number {
    if (this.#offset + length > this.size) this.#refill();
    const offset = this.#offset;
    this.#offset += length;
    return offset;
  }

  /** Whether the next refill will swap in the spare (for tests). */
  get spareReady(): boolean {
    return this.#spareReady;
  }

  #refill(): void {
    if (this.#spareReady) {
      const used = this.#bytes;
      this.#bytes = this.#spare;
      this.#spare = used;
      this.#spareReady = false;
    } else {
      randomFillSync(this.#bytes);
    }
    this.#offset = 0;
    this.#fillSpare();
  }

  #fillSpare(): void {
    if (this.#spareFilling || this.#spareReady) return;
    this.#spareFilling = true;
    randomFill(this.#spare, (error) => {
      this.#spareFilling = false;
      this.#spareReady = error === null;
    });
  }
}
