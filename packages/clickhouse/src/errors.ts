import { ErrorCode, NonRetriableError, TracehouseError } from "@tracehouse/schemas";

export interface SinkErrorOptions {
  readonly retriable: boolean;
  /** The ClickHouse exception code (e.g. 62 for SYNTAX_ERROR), when the engine reported one. */
  readonly clickhouseCode?: number;
  readonly cause?: unknown;
}

/** A failed insert, query or command; `retriable` says whether the same call may succeed later. */
export class SinkError extends TracehouseError {
  override readonly name: string = "SinkError";
  readonly clickhouseCode: number | null;

  constructor(message: string, options: SinkErrorOptions) {
    super(message, { code: ErrorCode.Sink, retriable: options.retriable, cause: options.cause });
    this.clickhouseCode = options.clickhouseCode ?? null;
  }
}

/** A migration that cannot be applied, or an applied migration whose file has since changed. */
export class MigrationError extends NonRetriableError {
  override readonly name: string = "MigrationError";

  constructor(message: string, options: { readonly cause?: unknown } = {}) {
    super(message, { ...options, code: ErrorCode.Migration });
  }
}

export function isSinkError(value: unknown): value is SinkError {
  return value instanceof SinkError;
}
