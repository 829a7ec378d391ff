import type { Kafka } from "kafkajs";
import { consumerLag } from "../harness/index.js";

export interface LagSample {
  /** Milliseconds since the sampler started. */
  readonly atMs: number;
  /** Records written and not yet committed by the group; null when the broker did not answer. */
  readonly lag: number | null;
}

/** Samples a consumer group's lag every `intervalMs` until stopped. */
export class LagSampler {
  readonly samples: LagSample[] = [];
  readonly #startedAt = performance.now();
  #timer: NodeJS.Timeout | null = null;
  #inFlight: Promise<void> | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly topics: readonly string[],
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    this.#timer = setInterval(() => {
      this.#inFlight ??= this.#sample().finally(() => (this.#inFlight = null));
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#inFlight;
  }

  async #sample(): Promise<void> {
    const atMs = performance.now() - this.#startedAt;
    let lag: number | null = null;
    try {
      lag = (await consumerLag(this.kafka, this.groupId, this.topics)).total;
    } catch {
      // The broker is away (fault runs): the gap shows in the series.
    }
    this.samples.push({ atMs, lag });
  }

  /** `<seconds>s:<lag>` per sample (at most `width`, the largest of each stretch); samples missing while the broker was away. */
  series(width = 60): string {
    const step = Math.max(1, Math.ceil(this.samples.length / width));
    const values: string[] = [];
    for (let i = 0; i < this.samples.length; i += step) {
      const stretch = this.samples.slice(i, i + step);
      const known = stretch.map((s) => s.lag).filter((lag): lag is number => lag !== null);
      const at = Math.round(stretch[0]!.atMs / 1000);
      values.push(`${at}s:${known.length === 0 ? "-" : String(Math.max(...known))}`);
    }
    return values.join(" ");
  }

  max(): number {
    return Math.max(0, ...this.samples.map((s) => s.lag ?? 0));
  }
}
