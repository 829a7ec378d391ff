/**
 * The offsets of one assigned partition between fetch and commit. Offsets are added in fetch
 * order and marked done when their row is in ClickHouse or their record in the dead-letter topic
 * (in any order); the committable offset is the first one not done, or the end of what was seen.
 * A retired instance (its partition was revoked) ignores every call, so late completions from
 * before a rebalance never commit for a partition this worker no longer owns.
 */
export class PartitionOffsets {
  readonly topic: string;
  readonly partition: number;
  #offsets: number[] = [];
  #head = 0;
  readonly #done = new Set<number>();
  /** The offset after the last one seen (including filtered control records); -1 before the first batch. */
  #end = -1;
  #committed: number;
  #retired = false;
  /** Records waiting in Kafka after the last fetch (its high watermark minus what was seen). */
  lag = 0;

  constructor(topic: string, partition: number, committed = -1) {
    this.topic = topic;
    this.partition = partition;
    this.#committed = committed;
  }

  get retired(): boolean {
    return this.#retired;
  }

  /** The offset after the last record seen; -1 before the first batch. */
  get end(): number {
    return this.#end;
  }

  get committed(): number {
    return this.#committed;
  }

  /** Records handed on but not yet written. */
  get pending(): number {
    return this.#offsets.length - this.#head - this.#done.size;
  }

  /** Tracks a fetched record; false for one already seen (redelivered), which must not be handled twice. */
  add(offset: number): boolean {
    if (this.#retired || offset < this.#end) return false;
    this.#offsets.push(offset);
    this.#end = offset + 1;
    return true;
  }

  /** Everything below `end` has been seen (a batch can end with records the client filtered out). */
  seenUntil(end: number): void {
    if (!this.#retired && end > this.#end) this.#end = end;
  }

  markDone(offset: number): void {
    if (this.#retired) return;
    this.#done.add(offset);
  }

  /** The offset to commit: the first not done, or the end of what was seen; -1 when nothing was seen. */
  committable(): number {
    const offsets = this.#offsets;
    while (this.#head < offsets.length && this.#done.delete(offsets[this.#head]!)) this.#head++;
    if (this.#head > 4096 && this.#head * 2 > offsets.length) {
      this.#offsets = offsets.slice(this.#head);
      this.#head = 0;
    }
    return this.#head < this.#offsets.length ? this.#offsets[this.#head]! : this.#end;
  }

  /** The committable offset when it is past the last commit, else null. */
  toCommit(): number | null {
    if (this.#retired) return null;
    const offset = this.committable();
    return offset > this.#committed ? offset : null;
  }

  committedAt(offset: number): void {
    if (offset > this.#committed) this.#committed = offset;
  }

  retire(): void {
    this.#retired = true;
    this.#offsets = [];
    this.#head = 0;
    this.#done.clear();
  }
}
