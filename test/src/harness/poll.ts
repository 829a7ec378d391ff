export interface PollOptions {
  /** What is awaited, for the timeout message. */
  readonly what: string;
  /** Give up after this long. Default: 60000. */
  readonly timeoutMs?: number;
  /** Pause between attempts. Default: 50. */
  readonly intervalMs?: number;
  /** Appended to the timeout message: the state seen last. Default: none. */
  readonly describe?: () => string;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `probe` until it returns something other than `undefined`, then returns that. Throws when
 * `timeoutMs` has passed (the probe runs at least once); an error thrown by the probe is not retried.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  options: PollOptions,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() >= deadline) {
      const state = options.describe === undefined ? "" : `: ${options.describe()}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what}${state}`);
    }
    await pause(Math.min(intervalMs, Math.max(0, deadline - performance.now())));
  }
}

/** Wall-clock time in epoch milliseconds with sub-millisecond resolution. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The answer, or null when it fails or takes longer than `ms` (e.g. a client talking to a node cut off). */
export function within<T>(answer: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  return Promise.race([answer.catch(() => null), late]).finally(() => clearTimeout(timer));
}
