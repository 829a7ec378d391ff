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
