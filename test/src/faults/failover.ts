import { pollUntil, quantile } from "../harness/index.js";
import type { AgentProgress } from "../load/protocol.js";

interface Sample {
  readonly at: number;
  readonly sent: number;
  readonly emitUs: readonly number[];
}

export interface FailoverMark {
  readonly label: string;
  readonly at: number;
}

export interface FailoverResult {
  readonly label: string;
  /** The longest time without a single record acknowledged by Kafka, from the fault on. */
  readonly stallMs: number;
  /** p99 of emit's caller-side cost from the fault to the end of the stall, microseconds. */
  readonly emitP99Us: number | null;
  /** How many emits that p99 is over. */
  readonly emits: number;
}

/**
 * Measures what a broker failover costs the agents, from their progress reports (records Kafka
 * acknowledged so far, and the cost of each emit since the previous report): the delivery stall is the longest
 * gap between two reports that saw acknowledgements grow, from the fault until deliveries have
 * flowed steadily for `settleMs` again.
 */
export class FailoverMeter {
  readonly results: FailoverResult[] = [];
  #samples: Sample[] = [];

  constructor(private readonly settleMs = 2000) {}

  observe(progress: AgentProgress): void {
    this.#samples.push({ at: performance.now(), sent: progress.sent, emitUs: progress.emitUsSinceLast });
    if (this.#samples.length > 20_000) this.#samples = this.#samples.slice(-10_000);
  }

  begin(label: string): FailoverMark {
    return { label, at: performance.now() };
  }

  async end(mark: FailoverMark, timeoutMs: number): Promise<FailoverResult> {
    const result = await pollUntil(() => this.#measure(mark), {
      what: `deliveries to flow again after ${mark.label}`,
      timeoutMs,
      intervalMs: 50,
    });
    this.results.push(result);
    return result;
  }

  /** The result once deliveries have grown steadily for settleMs after the longest gap; else undefined. */
  #measure(mark: FailoverMark): FailoverResult | undefined {
    const window = this.#samples.filter((s) => s.at >= mark.at);
    if (window.length < 2) return undefined;
    let lastGrowth = mark.at;
    let previous = this.#samples.findLast((s) => s.at < mark.at)?.sent ?? window[0]!.sent;
    let stallMs = 0;
    let stallEnd = mark.at;
    for (const sample of window) {
      if (sample.sent > previous) {
        if (sample.at - lastGrowth > stallMs) {
          stallMs = sample.at - lastGrowth;
          stallEnd = sample.at;
        }
        lastGrowth = sample.at;
        previous = sample.sent;
      }
    }
    const now = window[window.length - 1]!.at;
    if (lastGrowth === mark.at || now - stallEnd < this.settleMs || now - lastGrowth > this.settleMs / 4) {
      return undefined;
    }
    const during = window.filter((s) => s.at <= stallEnd).flatMap((s) => s.emitUs);
    return { label: mark.label, stallMs, emitP99Us: quantile(during, 0.99), emits: during.length };
  }
}
