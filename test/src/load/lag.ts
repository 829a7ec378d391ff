import type { Admin } from "kafkajs";

export interface LagSample {
  /** Milliseconds since the sampler started. */
  readonly atMs: number;
  /** Records not yet committed by the group over all partitions; null when the broker did not answer. */
  readonly lag: number | null;
}

/** Consumer-group lag (log end offset minus committed offset, summed over partitions). */
export async function groupLag(admin: Admin, groupId: string, topics: readonly string[]): Promise<number> {
  const [committed, ...ends] = await Promise.all([
    admin.fetchOffsets({ groupId, topics: [...topics] }),
    ...topics.map((topic) => admin.fetchTopicOffsets(topic)),
  ]);
  let lag = 0;
  topics.forEach((topic, index) => {
    const done = new Map(
      (committed.find((entry) => entry.topic === topic)?.partitions ?? []).map((p) => [
        p.partition,
        Number(p.offset),
      ]),
    );
    for (const { partition, high, low } of ends[index]!) {
      const from = done.get(partition) ?? -1;
      lag += Number(high) - (from >= 0 ? from : Number(low));
    }
  });
  return lag;
}

/** Samples the group's lag every `intervalMs` until stopped. */
export class LagSampler {
  readonly samples: LagSample[] = [];
  readonly #startedAt = performance.now();
  #timer: NodeJS.Timeout | null = null;
  #inFlight: Promise<void> | null = null;

  constructor(
    private readonly admin: Admin,
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
      lag = await groupLag(this.admin, this.groupId, this.topics);
    } catch {
      // The broker is away (fault runs): the gap shows in the series.
    }
    this.samples.push({ atMs, lag });
  }

  /** At most `width` values (the largest of each stretch), `-` where the broker did not answer. */
  series(width = 60): string {
    const step = Math.max(1, Math.ceil(this.samples.length / width));
    const values: string[] = [];
    for (let i = 0; i < this.samples.length; i += step) {
      const slice = this.samples.slice(i, i + step).map((s) => s.lag);
      const known = slice.filter((lag): lag is number => lag !== null);
      values.push(known.length === 0 ? "-" : String(Math.max(...known)));
    }
    return values.join(" ");
  }

  max(): number {
    return Math.max(0, ...this.samples.map((s) => s.lag ?? 0));
  }
}
