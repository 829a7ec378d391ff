import { ErrorCode, NonRetriableError } from "@tracehouse/schemas";

/**
 * Too many dead letters among a partition's recent records: more likely a bad deploy (a producer
 * writing an unknown schema, a missing column) than a few poison records. The worker stops
 * instead of emptying the partition into the dead-letter topic; the offending records stay
 * uncommitted.
 */
export class DeadLetterLimitError extends NonRetriableError {
  override readonly name: string = "DeadLetterLimitError";
  readonly topic: string;
  readonly partition: number;
  /** Dead letters counted in the window, the new ones included. */
  readonly deadLetters: number;
  readonly window: number;

  constructor(topic: string, partition: number, deadLetters: number, window: number, maxRatio: number) {
    super(
      `${deadLetters} dead letters among the last ${window} records of ${topic}[${partition}] exceed ` +
        `maxDeadLetterRatio ${maxRatio}: stopping instead of dead-lettering the partition`,
      { code: ErrorCode.Validation },
    );
    this.topic = topic;
    this.partition = partition;
    this.deadLetters = deadLetters;
    this.window = window;
  }
}

/**
 * A transient failure outlived its retries where dead-lettering would hide an outage: ClickHouse or
 * the broker unreachable, commits failing. The worker stops (exit 1) with the offsets uncommitted,
 * so nothing is lost; a restart (or the orchestrator's) resumes once the dependency is back.
 */
export class RetriesExhaustedError extends NonRetriableError {
  override readonly name: string = "RetriesExhaustedError";
  /** `insert`, `dead_letter` or `commit`. */
  readonly operation: string;
  readonly retries: number;

  constructor(operation: string, retries: number, cause: unknown, elapsedMs?: number) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    const took = elapsedMs === undefined ? "" : ` in ${(elapsedMs / 1000).toFixed(1)} s`;
    super(`${operation} still failing after ${retries} retries${took}: ${detail}`, {
      code: ErrorCode.Timeout,
      cause,
    });
    this.operation = operation;
    this.retries = retries;
  }
}
