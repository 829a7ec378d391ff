/** A fault run's clock: its deadline, and the timeline of events printed as they happen. */
export class Timeline {
  readonly startedAt = performance.now();
  readonly deadline: number;

  constructor(readonly timeoutMs: number) {
    this.deadline = this.startedAt + timeoutMs;
  }

  /** Time left before the deadline, at least `floorMs` (so that a last check still gets a chance). */
  left(floorMs = 1000): number {
    return Math.round(Math.max(floorMs, this.deadline - performance.now()));
  }

  elapsedS(): number {
    return Number(((performance.now() - this.startedAt) / 1000).toFixed(1));
  }

  /** One line of the timeline: seconds since the start, then the event. */
  record(event: string): void {
    console.log(`${this.elapsedS().toFixed(1).padStart(6)} s  ${event}`);
  }
}

/** Seconds since `from` (a `performance.now()` value), one decimal. */
export function secondsSince(from: number): string {
  return ((performance.now() - from) / 1000).toFixed(1);
}
