/** Rejects with `message` if `promise` has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface Rejoin {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
}

/**
 * Open while the consumer restarts (kafkajs after a crash, or a lost coordinator), closed once it
 * joined its group again. Commits wait on it, bounded; pauses and resumes may fail while it is open.
 */
export class RejoinGate {
  #rejoin: Rejoin | null = null;

  get open(): boolean {
    return this.#rejoin !== null;
  }

  /** Opens the gate (or keeps it open) and returns a token that `cancel` accepts. */
  enter(): object {
    if (this.#rejoin !== null) return this.#rejoin;
    let resolve = (): void => undefined;
    const promise = new Promise<void>((r) => (resolve = r));
    return (this.#rejoin = { promise, resolve });
  }

  /** The consumer joined: whatever waits goes on. */
  joined(): void {
    this.#rejoin?.resolve();
    this.#rejoin = null;
  }

  /** A restart that failed closes the gate it opened (not a newer one). */
  cancel(token: object): void {
    if (this.#rejoin !== token) return;
    this.joined();
  }

  /** Resolves at once when closed, else once the consumer joined; rejects after `boundMs`. */
  async wait(boundMs: number): Promise<void> {
    if (this.#rejoin === null) return;
    await withTimeout(
      this.#rejoin.promise,
      boundMs,
      `the consumer did not rejoin its group within ${boundMs} ms of a crash`,
    );
  }
}
