import { DropReason } from "../stats.js";
import type { SendLatencyStats } from "../stats.js";

const LATENCY_WINDOW = 1024;

function emptyDrops(): Record<DropReason, number> {
  const drops = {} as Record<DropReason, number>;
  for (const reason of Object.values(DropReason)) drops[reason] = 0;
  return drops;
}

/** Mutable counters behind `stats()`; plain fields so the hot path only increments. */
export class Counters {
  accepted = 0;
  sent = 0;
  recovered = 0;
  spooled = 0;
  batchesSent = 0;
  sendErrors = 0;
  readonly dropped = emptyDrops();
  readonly #latencies = new Float64Array(LATENCY_WINDOW);
  #latencyCount = 0;
  #latencyMax = 0;

  recordLatency(ms: number): void {
    this.#latencies[this.#latencyCount % LATENCY_WINDOW] = ms;
    this.#latencyCount += 1;
    if (ms > this.#latencyMax) this.#latencyMax = ms;
  }

  latency(): SendLatencyStats {
    const n = Math.min(this.#latencyCount, LATENCY_WINDOW);
    if (n === 0) return { batches: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
    const window = this.#latencies.slice(0, n).sort();
    const at = (q: number): number => window[Math.min(n - 1, Math.floor(q * n))] ?? 0;
    return { batches: this.#latencyCount, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: this.#latencyMax };
  }

  drops(): Readonly<Record<DropReason, number>> {
    return { ...this.dropped };
  }
}
