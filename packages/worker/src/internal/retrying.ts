import { retry } from "@tracehouse/schemas";
import type { RetryPolicy } from "@tracehouse/schemas";
import type { StepContext } from "./steps/step.js";
import { messageOf } from "./steps/step.js";

export type RetriedOperation = "insert" | "dead_letter" | "commit";

export interface RetryingOptions {
  readonly policy: RetryPolicy;
  readonly isRetriable?: (error: unknown) => boolean;
  /** Told when the operation starts waiting for its first retry, and when it is over. */
  readonly onWaiting?: (waiting: boolean) => void;
}

/**
 * The one retry loop of a worker operation, through the one retry helper: every retry counted in
 * `tracehouse_worker_retries_total` and logged; the waiting ends when the chain is abandoned. The
 * worker's sink and dead-letter producer make no retries of their own, so each retry is one attempt.
 */
export async function retrying<T>(
  context: StepContext,
  operation: RetriedOperation,
  run: () => Promise<T>,
  options: RetryingOptions,
): Promise<T> {
  let waiting = false;
  try {
    return await retry(run, {
      policy: options.policy,
      isRetriable: options.isRetriable,
      signal: context.signal,
      onRetry: ({ error, retry: attempt, delayMs }) => {
        if (!waiting) options.onWaiting?.(true);
        waiting = true;
        context.metrics.retries.inc({ operation });
        context.logger.warn(`${operation} failed, retrying`, { attempt, delayMs, error: messageOf(error) });
      },
    });
  } finally {
    if (waiting) options.onWaiting?.(false);
  }
}
