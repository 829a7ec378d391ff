import type { RetryPolicy } from "@tracehouse/schemas";
import { RetriesExhaustedError } from "../../errors.js";
import { isTransientSendError } from "../DeadLetterSender.js";
import type { DeadLetter, DeadLetterSender } from "../DeadLetterSender.js";
import { retrying } from "../retrying.js";
import type { DeadLetterRatioPolicy } from "./dead-letter-policy.js";
import type { Step, StepContext } from "./step.js";
import { Waiters } from "./step.js";

/** Where the dead-letter step hands its letters: the dead-letter topic, or (redrive) a count of those still dead. */
export type DeadLetterSink = Pick<DeadLetterSender, "topic" | "send">;

/**
 * The dead-letter step: records that cannot be written go to the dead-letter sink, within what the
 * policy admits; once sent they are done (their offsets may be committed). A refused policy, or
 * sends that keep failing, stop the chain.
 */
export class DeadLetterStep implements Step {
  readonly #waiters = new Waiters();
  #active = 0;
  /** Records dead-lettered since the start. */
  deadLettered = 0;

  constructor(
    private readonly context: StepContext,
    private readonly sink: DeadLetterSink,
    private readonly policy: DeadLetterRatioPolicy,
    private readonly retry: RetryPolicy,
  ) {}

  get idle(): boolean {
    return this.#active === 0;
  }

  /** Resolves once the letters are sent, or the chain failed; never rejects. */
  async submit(letters: readonly DeadLetter[]): Promise<void> {
    const { metrics, logger } = this.context;
    this.#active++;
    try {
      this.policy.admit(letters.map((letter) => letter.source));
      const { maxRetries } = this.retry;
      await retrying(this.context, "dead_letter", () => this.sink.send(letters), {
        policy: this.retry,
        isRetriable: isTransientSendError,
      }).catch((error: unknown) => {
        throw isTransientSendError(error)
          ? new RetriesExhaustedError("dead_letter", maxRetries, error)
          : error;
      });
      for (const letter of letters) {
        letter.source.offsets.markDone(letter.source.offset);
        metrics.deadLetters.inc({ topic: letter.source.offsets.topic, reason: letter.reason });
        metrics.recordsHandled(letter.source.offsets.topic, "dead_lettered", 1);
      }
      this.deadLettered += letters.length;
      const first = letters[0]!.source;
      logger.warn("records dead-lettered", {
        count: letters.length,
        deadLetterTopic: this.sink.topic,
        reasons: [...new Set(letters.map((letter) => letter.reason))],
        first: `${first.offsets.topic}[${first.offsets.partition}]@${first.offset}`,
      });
    } catch (error) {
      if (!this.context.signal.aborted) this.context.fail(error);
    } finally {
      this.#active--;
      this.#waiters.wake();
    }
  }

  /** The partition was revoked: forget its count. */
  forget(topic: string, partition: number): void {
    this.policy.forget(topic, partition);
  }

  poll(): void {}

  join(): Promise<void> {
    return this.#waiters.until(() => this.idle || this.context.failed !== null);
  }

  /** Wakes joins (the chain failed). */
  wake(): void {
    this.#waiters.wake();
  }
}
