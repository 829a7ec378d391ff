import { retry } from "@tracehouse/schemas";
import type { Logger } from "@tracehouse/schemas";
import { toSinkError } from "./classify.js";

export interface RetryPolicy {
  /** Attempts after the first one. */
  readonly maxRetries: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
}

/**
 * Runs `operation` through the one retry helper, retrying failures the ClickHouse classification
 * calls retriable; every failure leaves as a SinkError.
 */
export async function withRetry<T>(
  operation: () => Promise<T>,
  label: string,
  policy: RetryPolicy,
  logger: Logger,
): Promise<T> {
  try {
    return await retry(
      async () => {
        try {
          return await operation();
        } catch (raw) {
          throw toSinkError(raw, label);
        }
      },
      {
        policy: {
          maxRetries: policy.maxRetries,
          baseDelayMs: policy.retryBaseDelayMs,
          maxDelayMs: policy.retryMaxDelayMs,
        },
        onRetry: ({ error, retry: attempt, delayMs }) => {
          const sinkError = toSinkError(error, label);
          logger.warn("clickhouse call failed, retrying", {
            operation: label,
            attempt,
            delayMs,
            clickhouseCode: sinkError.clickhouseCode,
            error: sinkError.message,
          });
        },
      },
    );
  } catch (error) {
    throw toSinkError(error, label);
  }
}
