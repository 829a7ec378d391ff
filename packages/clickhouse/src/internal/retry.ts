import type { Logger } from "@tracehouse/schemas";
import { toSinkError } from "./classify.js";

export interface RetryPolicy {
  /** Attempts after the first one. */
  readonly maxRetries: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Exponential backoff with full jitter: attempt n waits a random time below base·2ⁿ, capped. */
export function backoffDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.retryMaxDelayMs, policy.retryBaseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/** Runs `operation`, retrying retriable failures; every failure leaves as a SinkError. */
export async function withRetry<T>(
  operation: () => Promise<T>,
  label: string,
  policy: RetryPolicy,
  logger: Logger,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (raw) {
      const error = toSinkError(raw, label);
      if (!error.retriable || attempt >= policy.maxRetries) throw error;
      const delayMs = backoffDelayMs(policy, attempt);
      logger.warn("clickhouse call failed, retrying", {
        operation: label,
        attempt: attempt + 1,
        delayMs,
        clickhouseCode: error.clickhouseCode,
        error: error.message,
      });
      await sleep(delayMs);
    }
  }
}
