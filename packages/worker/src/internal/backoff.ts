import { isTracehouseError } from "@tracehouse/schemas";
import type { RetryConfig } from "../config.js";

/** Exponential backoff with full jitter: retry n waits a random time below base·2ⁿ, capped. */
export function backoffDelayMs(
  retry: RetryConfig,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/**
 * Whether trying again may help: tracehouse errors say so themselves, kafkajs errors carry a
 * `retriable` flag; anything else (a dropped connection, a timeout) is taken as transient.
 */
export function isTransient(error: unknown): boolean {
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
    if (signal?.aborted) {
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

export interface RetryHooks {
  readonly retry: RetryConfig;
  /** Called before each wait, with the failure and the retry number (1-based). */
  readonly onRetry: (error: unknown, attempt: number, delayMs: number) => void;
  readonly signal?: AbortSignal;
}

/**
 * Runs `operation` until it succeeds, waiting with backoff after each transient failure.
 * A non-transient failure, an exhausted `maxRetries` or an aborted signal ends it with that error.
 */
export async function withRetries<T>(operation: () => Promise<T>, hooks: RetryHooks): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const exhausted = hooks.retry.maxRetries !== null && attempt >= hooks.retry.maxRetries;
      if (!isTransient(error) || exhausted || hooks.signal?.aborted) throw error;
      const delayMs = backoffDelayMs(hooks.retry, attempt);
      hooks.onRetry(error, attempt + 1, delayMs);
      await sleep(delayMs, hooks.signal);
    }
  }
}
