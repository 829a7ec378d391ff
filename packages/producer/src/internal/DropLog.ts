import type { Logger } from "@tracehouse/schemas";
import { DropReason } from "../stats.js";
import type { Counters } from "./counters.js";

const WINDOW_MS = 1000;

/** Counts records not accepted or lost; logs each reason at most once a second, with the count (sampling is not logged). */
export class DropLog {
  readonly #counters: Counters;
  readonly #logger: Logger;
  readonly #windows = new Map<DropReason, number>();

  constructor(counters: Counters, logger: Logger) {
    this.#counters = counters;
    this.#logger = logger;
  }

  drop(reason: DropReason, count = 1, error?: string): void {
    this.#counters.dropped[reason] += count;
    if (reason === DropReason.Sampling) return;
    const pending = this.#windows.get(reason);
    if (pending !== undefined) {
      this.#windows.set(reason, pending + count);
      return;
    }
    this.#windows.set(reason, count);
    setTimeout(() => {
      const dropped = this.#windows.get(reason) ?? count;
      this.#windows.delete(reason);
      const fields = error === undefined ? { reason, dropped } : { reason, dropped, firstError: error };
      this.#logger.warn(`dropped ${dropped} records: ${reason}`, fields);
    }, WINDOW_MS).unref();
  }
}
