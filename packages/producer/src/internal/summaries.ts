import { isRetriable } from "@tracehouse/schemas";

/** A short text for an input or result: strings as they are, anything else as JSON, cut to `maxChars`. */
export function summarize(value: unknown, maxChars: number): string | null {
  if (value === undefined || value === null) return null;
  let text: string;
  if (typeof value === "string") text = value;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > maxChars ? `${text.slice(0, Math.max(0, maxChars - 1))}…` : text;
}

/** The error-record fields of anything thrown. */
export interface ErrorDescription {
  readonly errorClass: string;
  readonly message: string;
  readonly stack: string | null;
  readonly code: string | null;
  readonly retriable: boolean;
}

export function describeError(error: unknown): ErrorDescription {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      errorClass: error.name || error.constructor.name || "Error",
      message: error.message,
      stack: error.stack ?? null,
      code: typeof code === "string" || typeof code === "number" ? String(code) : null,
      retriable: isRetriable(error),
    };
  }
  return { errorClass: typeof error, message: String(error), stack: null, code: null, retriable: false };
}
