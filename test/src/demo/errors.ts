import { ErrorCode, NonRetriableError } from "@tracehouse/schemas";

/** A provider's 429: retried with backoff. */
export class RateLimitedError extends Error {
  override readonly name: string = "RateLimited";
  readonly code = "429";
}

/** The tool service's 503: retried with backoff. */
export class ToolUnavailableError extends Error {
  override readonly name: string = "ToolUnavailable";
  readonly code = "503";
}

/** The fact-checker found no source for a claim: the sub-agent fails, its parent goes on. */
export class UnsupportedClaimError extends NonRetriableError {
  override readonly name: string = "UnsupportedClaim";

  constructor(message: string) {
    super(message, { code: ErrorCode.Validation });
  }
}

/** The prompt no longer fits the model: the conversation fails. */
export class ContextWindowExceededError extends NonRetriableError {
  override readonly name: string = "ContextWindowExceeded";

  constructor(message: string) {
    super(message, { code: ErrorCode.Validation });
  }
}
