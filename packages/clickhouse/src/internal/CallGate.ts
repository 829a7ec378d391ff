import { ErrorCode, NonRetriableError } from "@tracehouse/schemas";
import type { Logger } from "@tracehouse/schemas";
import { withRetry } from "./retry.js";
import type { RetryPolicy } from "./retry.js";

/** Runs a sink's calls with retries, tracks them, and closes only after those in flight settle. */
export class CallGate {
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed: Promise<void> | null = null;

  constructor(
    private readonly sinkName: string,
    private readonly retry: RetryPolicy,
    private readonly logger: Logger,
  ) {}

  async run<T>(label: string, operation: () => Promise<T>): Promise<T> {
    if (this.#closed !== null) {
      throw new NonRetriableError(`${this.sinkName} is closed (${label})`, { code: ErrorCode.Closed });
    }
    const call = withRetry(operation, label, this.retry, this.logger);
    this.#inFlight.add(call);
    try {
      return await call;
    } finally {
      this.#inFlight.delete(call);
    }
  }

  close(release: () => void | Promise<void>): Promise<void> {
    this.#closed ??= (async () => {
      await Promise.allSettled([...this.#inFlight]);
      await release();
    })();
    return this.#closed;
  }
}
