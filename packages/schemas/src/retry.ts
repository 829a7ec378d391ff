import { isTracehouseError } from "./errors.js";

/** How often and how long to retry: exponential backoff with full jitter, bounded. */
export interface RetryPolicy {
  /** Retries after the first attempt; 0 runs the operation once. */
  readonly maxRetries: number;
  /** Ceiling of the first wait; doubles per retry. */
  readonly baseDelayMs: number;
  /** Ceiling of every wait. */
  readonly maxDelayMs: number;
  /**
   * Retries go on past `maxRetries` until this long after the first attempt (the last wait ends
   * then): for failures known to cure themselves within a bounded time (a consumer group settling).
   * Default: 0 (the count alone decides).
   */
  readonly retryForMs?: number;
}

/** One failed attempt that will be retried: for logs and metrics. */
export interface RetryAttempt {
  readonly error: unknown;
  /** The retry about to be made, 1-based. */
  readonly retry: number;
  readonly delayMs: number;
}

export interface RetryOptions {
  readonly policy: RetryPolicy;
  /** Whether a failure may succeed on a later attempt. Default: {@link isTransientError}. */
  readonly isRetriable?: (error: unknown) => boolean;
  /** Called before each wait: the one hook for retry metrics and logs. */
  readonly onRetry?: (attempt: RetryAttempt) => void;
  /** Ends the waiting (rejecting with the signal's reason). */
  readonly signal?: AbortSignal;
  /** Default: Math.random. */
  readonly random?: () => number;
}

/** Full jitter: retry n (0-based) waits a random time below min(maxDelayMs, baseDelayMs·2ⁿ). */
export function backoffDelayMs(
  policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">,
  retry: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(retry, 30));
  return Math.floor(random() * ceiling);
}

/**
 * Whether trying again may help: tracehouse errors say so themselves, other libraries' errors
 * (kafkajs) carry a boolean `retriable`; anything else (a dropped connection) is taken as transient.
 */
export function isTransientError(error: unknown): boolean {
  if (isTracehouseError(error)) return error.retriable;
  if (typeof error === "object" && error !== null) {
    const retriable = (error as { retriable?: unknown }).retriable;
    if (typeof retriable === "boolean") return retriable;
  }
  return true;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Runs `operation` until it succeeds, waiting with backoff after each retriable failure, at most
 * `policy.maxRetries` times or, with `policy.retryForMs`, for as long as that lasts (whichever
 * allows more). The last failure leaves unchanged: a retriable error escaping means
 * the retries are exhausted, a non-retriable one that retrying could not help. Never nest it: one
 * layer owns the retries of an operation (the others use `maxRetries: 0` or call it once).
 */
export async function retry<T>(operation: () => Promise<T>, options: RetryOptions): Promise<T> {
  const isRetriable = options.isRetriable ?? isTransientError;
  const { policy } = options;
  const started = performance.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const counted = attempt < policy.maxRetries;
      const leftMs = started + (policy.retryForMs ?? 0) - performance.now();
      // (timers count whole milliseconds: less than one left is the deadline)
      if ((!counted && leftMs < 1) || options.signal?.aborted === true || !isRetriable(error)) throw error;
      // past the count, the last wait ends at the deadline (rounded up, so it does not end just before it)
      const backoffMs = backoffDelayMs(policy, attempt, options.random);
      const delayMs = counted ? backoffMs : Math.min(backoffMs, Math.ceil(leftMs));
      options.onRetry?.({ error, retry: attempt + 1, delayMs });
      await sleep(delayMs, options.signal);
    }
  }
}
