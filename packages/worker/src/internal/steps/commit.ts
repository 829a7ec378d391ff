import type { RetryPolicy } from "@tracehouse/schemas";
import { RetriesExhaustedError } from "../../errors.js";
import type { PartitionLedger } from "../PartitionLedger.js";
import { retrying } from "../retrying.js";
import type { CommitOffset, Step, StepContext } from "./step.js";

/**
 * The commit step: commits the offset of every partition below which all records are written or
 * dead-lettered. One commit at a time; a request while one runs commits again after it. A failed
 * commit is retried (each attempt takes the offsets reached by then), past the count for as long as
 * the policy's `retryForMs` (a group settling: its coordinator moving, a rebalance); when the
 * retries run out the chain stops: uncommitted records are read again.
 */
export class CommitStep implements Step {
  #committing: Promise<void> | null = null;
  #again = false;

  constructor(
    private readonly context: StepContext,
    private readonly ledger: PartitionLedger,
    private readonly retry: RetryPolicy,
    /** Commits to the group; `committed` is told what was. */
    private readonly commit: (offsets: readonly CommitOffset[]) => Promise<void>,
    private readonly committed: (offsets: readonly CommitOffset[]) => void = () => undefined,
  ) {}

  /** Asks for a commit of what is done; returns at once. */
  submit(): void {
    if (this.context.signal.aborted) return;
    if (this.#committing !== null) {
      this.#again = true;
      return;
    }
    if (this.ledger.committable().length === 0) return;
    const started = Date.now();
    let attempts = 0;
    this.#committing = retrying(
      this.context,
      "commit",
      () => {
        attempts++;
        return this.#commitOnce();
      },
      {
        policy: this.retry,
        // Any failed commit may succeed later (a rebalance, a coordinator moving).
        isRetriable: () => true,
      },
    )
      .catch((error: unknown) => {
        if (!this.context.signal.aborted)
          this.context.fail(new RetriesExhaustedError("commit", attempts - 1, error, Date.now() - started));
      })
      .finally(() => {
        this.#committing = null;
        if (this.#again) {
          this.#again = false;
          this.submit();
        }
      });
  }

  poll(): void {
    this.submit();
  }

  /** Commits everything done now, once the commit in flight settled; rejects when the commit fails. */
  async join(): Promise<void> {
    while (this.#committing !== null) await this.#committing;
    await this.#commitOnce();
  }

  async #commitOnce(): Promise<void> {
    const offsets = this.ledger.committable();
    if (offsets.length === 0) return;
    await this.commit(offsets);
    this.ledger.committed(offsets);
    this.context.metrics.commits.inc();
    this.committed(offsets);
  }
}
