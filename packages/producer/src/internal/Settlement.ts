import { ErrorCode, TracehouseError } from "@tracehouse/schemas";

interface Waiter {
  readonly target: number;
  readonly resolve: () => void;
}

/**
 * How many accepted records were sent or dropped since; they leave in acceptance order, so
 * "every record accepted before" is a count to wait for.
 */
export class Settlement {
  #settled = 0;
  readonly #waiters: Waiter[] = [];

  get settled(): number {
    return this.#settled;
  }

  settle(count: number): void {
    this.#settled += count;
    const waiters = this.#waiters;
    for (let i = waiters.length - 1; i >= 0; i--) {
      const waiter = waiters[i] as Waiter;
      if (waiter.target <= this.#settled) {
        waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  /**
   * Resolves once `target` records are settled; rejects with code TIMEOUT after `timeoutMs`,
   * with `why()` appended to the message.
   */
  async waitFor(target: number, timeoutMs: number, why: () => string): Promise<void> {
    if (this.#settled >= target) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.#waiters.push({ target, resolve });
        timer = setTimeout(() => {
          const index = this.#waiters.findIndex((w) => w.resolve === resolve);
          if (index >= 0) this.#waiters.splice(index, 1);
          reject(
            new TracehouseError(
              `flush timed out after ${timeoutMs} ms with ${target - this.#settled} records unsent${why()}`,
              { code: ErrorCode.Timeout, retriable: true },
            ),
          );
        }, timeoutMs);
      });
    } finally {
      clearTimeout(timer);
    }
  }
}
