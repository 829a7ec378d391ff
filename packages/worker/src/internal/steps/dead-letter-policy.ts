import { DeadLetterLimitError } from "../../errors.js";
import type { SourceRef } from "../source.js";
import { partitionKey } from "../source.js";

/**
 * How many dead letters a partition may produce before the worker stops: at most `maxRatio` of its
 * last `window` records. A bad deploy (an unknown schema, a missing column) then stays in its topic,
 * uncommitted, instead of emptying it into the dead-letter topic.
 */
export class DeadLetterRatioPolicy {
  readonly #recent = new Map<string, number[]>();

  constructor(
    private readonly window: number,
    private readonly maxRatio: number,
  ) {}

  /** Counts the letters in; throws DeadLetterLimitError (counting none) when a partition would exceed the ratio. */
  admit(sources: readonly SourceRef[]): void {
    const byPartition = new Map<string, SourceRef[]>();
    for (const source of sources) {
      const key = partitionKey(source.offsets.topic, source.offsets.partition);
      let list = byPartition.get(key);
      if (list === undefined) byPartition.set(key, (list = []));
      list.push(source);
    }
    const admitted = new Map<string, number[]>();
    for (const [key, list] of byPartition) {
      const { offsets } = list[0]!;
      const from = offsets.end - this.window;
      const recent = (this.#recent.get(key) ?? []).filter((offset) => offset >= from);
      for (const source of list) recent.push(source.offset);
      if (recent.length > this.maxRatio * this.window) {
        throw new DeadLetterLimitError(
          offsets.topic,
          offsets.partition,
          recent.length,
          this.window,
          this.maxRatio,
        );
      }
      admitted.set(key, recent);
    }
    for (const [key, recent] of admitted) this.#recent.set(key, recent);
  }

  /** The partition was revoked: forget its count. */
  forget(topic: string, partition: number): void {
    this.#recent.delete(partitionKey(topic, partition));
  }
}
