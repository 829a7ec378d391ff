import { RandomIdGenerator } from "@opentelemetry/sdk-trace-base";
import type { IdGenerator } from "@opentelemetry/sdk-trace-base";

/** Ids the next span must have; a field left out is generated as usual. */
export interface SteeredIds {
  readonly traceId?: string;
  readonly spanId?: string;
}

/**
 * An IdGenerator that hands out given ids for the one span being started inside
 * {@link SteeredIdGenerator.with} (the SDK draws both ids synchronously in `startSpan`), and
 * delegates to the application's generator otherwise. It lets a new trace's root span keep
 * the trace id of the context it was started from, and an execution written with an id the
 * platform manages keep that span id.
 */
export class SteeredIdGenerator implements IdGenerator {
  readonly #delegate: IdGenerator;
  #next: SteeredIds | null = null;

  constructor(delegate: IdGenerator = new RandomIdGenerator()) {
    this.#delegate = delegate;
  }

  with<R>(ids: SteeredIds, fn: () => R): R {
    this.#next = ids;
    try {
      return fn();
    } finally {
      this.#next = null;
    }
  }

  generateTraceId(): string {
    return this.#next?.traceId ?? this.#delegate.generateTraceId();
  }

  generateSpanId(): string {
    return this.#next?.spanId ?? this.#delegate.generateSpanId();
  }
}
