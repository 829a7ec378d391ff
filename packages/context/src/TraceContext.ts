import type { Baggage } from "./baggage.js";
import type { HeaderCarrier } from "./header-carrier.js";
import { collectTraceHeaders } from "./internal/carrier.js";
import { combineValues } from "./internal/list.js";
import { randomSpanId, randomTraceId } from "./internal/ids.js";
import {
  EMPTY_LIST,
  EMPTY_PROPAGATED,
  Propagated,
  propagatedFromHeaders,
  splitIdentity,
  type BaggageInput,
  type Identity,
  type TraceContextChanges,
} from "./propagated.js";
import { formatTraceparent, parseTraceparent, TraceFlag, type Traceparent } from "./traceparent.js";

export { ContextBaggageKey, isIdentityKey } from "./propagated.js";
export type { BaggageInput, TraceContextChanges } from "./propagated.js";

/** Header names, lowercase as the specs recommend sending them. */
export const TraceHeader = {
  Traceparent: "traceparent",
  Tracestate: "tracestate",
  Baggage: "baggage",
} as const;
export type TraceHeader = (typeof TraceHeader)[keyof typeof TraceHeader];

/** The W3C headers of one context; `tracestate`/`baggage` only when non-empty. */
export type TraceHeaders = {
  readonly traceparent: string;
  readonly tracestate?: string;
  readonly baggage?: string;
};

export interface TraceContextInit {
  /** The sampled flag: whether this trace is recorded. Default: true. */
  readonly sampled?: boolean;
  /** Default: none, or the `th.correlation_id` baggage entry. */
  readonly correlationId?: string;
  /** Default: none, or the `th.user_id` baggage entry. */
  readonly userId?: string;
  /** Default: none, or the `th.thread_id` baggage entry. */
  readonly threadId?: string;
  /** Default: none. Keys must be RFC 7230 tokens and metadata must follow the property grammar. */
  readonly baggage?: BaggageInput;
  /** `tracestate` list-members (`key=value`). Default: none. */
  readonly tracestate?: readonly string[];
}

export interface ChildOptions {
  /** A new sampling decision for the child span. Default: the parent's. */
  readonly sampled?: boolean;
}

let construct: (
  traceparent: Traceparent,
  spanStack: readonly string[],
  isRemote: boolean,
  propagated: Propagated,
) => TraceContext;

/** The fields of a context rebuilt from another representation (an OpenTelemetry span context). */
export interface ContextParts {
  readonly traceparent: Traceparent;
  readonly spanStack: readonly string[];
  readonly isRemote: boolean;
  /** Valid baggage, identity keys included; the identity below takes precedence. */
  readonly baggage: Baggage;
  readonly identity?: Partial<Identity>;
  /** Valid tracestate list-members. */
  readonly tracestate: readonly string[];
}

/** Builds a context from parts already validated by the caller. Not part of the public API. */
export function restoreTraceContext(parts: ContextParts): TraceContext {
  const split = splitIdentity(parts.baggage);
  const identity: Identity = {
    correlationId: parts.identity?.correlationId ?? split.identity.correlationId,
    userId: parts.identity?.userId ?? split.identity.userId,
    threadId: parts.identity?.threadId ?? split.identity.threadId,
  };
  const tracestate = parts.tracestate.length === 0 ? EMPTY_LIST : Object.freeze(parts.tracestate.slice());
  return construct(
    parts.traceparent,
    Object.freeze(parts.spanStack.slice()),
    parts.isRemote,
    new Propagated(identity, split.baggage, tracestate),
  );
}

/**
 * An immutable trace context: W3C trace id, the current span and its in-process ancestry,
 * trace flags, tracestate, baggage, and the tracehouse identity fields (correlation, user,
 * thread) which travel as baggage under {@link ContextBaggageKey}.
 *
 * Every operation returns a new context. Header parsing never throws: invalid input starts
 * a new trace.
 */
export class TraceContext {
  readonly traceId: string;
  /** The current span. */
  readonly spanId: string;
  /** Ancestors of the current span in this process, root first; empty for a root or remote span. */
  readonly spanStack: readonly string[];
  /** The W3C trace flags, limited to {@link TraceFlag.Sampled} and {@link TraceFlag.Random}. */
  readonly traceFlags: number;
  /** True when the current span was created by another process (read from headers or OTel). */
  readonly isRemote: boolean;
  readonly #propagated: Propagated;
  #headers: TraceHeaders | undefined;

  static {
    construct = (traceparent, spanStack, isRemote, propagated) =>
      new TraceContext(traceparent, spanStack, isRemote, propagated);
  }

  private constructor(
    traceparent: Traceparent,
    spanStack: readonly string[],
    isRemote: boolean,
    propagated: Propagated,
  ) {
    this.traceId = traceparent.traceId;
    this.spanId = traceparent.spanId;
    this.traceFlags = traceparent.traceFlags;
    this.spanStack = spanStack;
    this.isRemote = isRemote;
    this.#propagated = propagated;
  }

  /** Starts a new trace with a random trace id and root span id. Throws ConfigError on invalid baggage or tracestate. */
  static create(init: TraceContextInit = {}): TraceContext {
    const flags = ((init.sampled ?? true) ? TraceFlag.Sampled : TraceFlag.None) | TraceFlag.Random;
    const propagated = EMPTY_PROPAGATED.with(init);
    return new TraceContext(
      { traceId: randomTraceId(), spanId: randomSpanId(), traceFlags: flags },
      EMPTY_LIST,
      false,
      propagated,
    );
  }

  /**
   * Reads `traceparent`, `tracestate` and `baggage` from any header record (names in any
   * case; string, Buffer or array values). The result's current span is the caller's span,
   * so `child()` is a span whose parent is the incoming one. A missing or invalid
   * `traceparent` starts a new trace (tracestate is then ignored, baggage is kept).
   * Never throws.
   */
  static fromHeaders(headers: HeaderCarrier | null | undefined): TraceContext {
    try {
      const found = collectTraceHeaders(headers);
      const traceparent = found.traceparent.length === 1 ? parseTraceparent(found.traceparent[0]) : null;
      const tracestate = traceparent === null ? "" : (combineValues(found.tracestate) ?? "");
      const propagated = propagatedFromHeaders(combineValues(found.baggage) ?? "", tracestate);
      if (traceparent !== null) return new TraceContext(traceparent, EMPTY_LIST, true, propagated);
      return new TraceContext(
        {
          traceId: randomTraceId(),
          spanId: randomSpanId(),
          traceFlags: TraceFlag.Sampled | TraceFlag.Random,
        },
        EMPTY_LIST,
        false,
        propagated,
      );
    } catch {
      return TraceContext.create();
    }
  }

  get parentSpanId(): string | undefined {
    return this.spanStack[this.spanStack.length - 1];
  }

  get sampled(): boolean {
    return (this.traceFlags & TraceFlag.Sampled) !== 0;
  }

  get correlationId(): string | undefined {
    return this.#propagated.identity.correlationId;
  }

  get userId(): string | undefined {
    return this.#propagated.identity.userId;
  }

  get threadId(): string | undefined {
    return this.#propagated.identity.threadId;
  }

  /** Baggage entries other than the identity fields. */
  get baggage(): Baggage {
    return this.#propagated.baggage;
  }

  /** `tracestate` list-members, `key=value`, leftmost first. */
  get tracestate(): readonly string[] {
    return this.#propagated.tracestate;
  }

  /** Baggage as it travels: the identity entries under {@link ContextBaggageKey} first, then {@link baggage}. */
  toBaggage(): Baggage {
    return new Map(this.#propagated.members());
  }

  /** A new span in the same trace whose parent is this context's span. */
  child(options?: ChildOptions): TraceContext {
    let flags = this.traceFlags;
    if (options?.sampled !== undefined)
      flags = options.sampled ? flags | TraceFlag.Sampled : flags & ~TraceFlag.Sampled;
    const stack = this.spanStack.length === 0 ? [this.spanId] : [...this.spanStack, this.spanId];
    return new TraceContext(
      { traceId: this.traceId, spanId: randomSpanId(), traceFlags: flags },
      Object.freeze(stack),
      false,
      this.#propagated,
    );
  }

  /** A copy with other identity fields, baggage or tracestate; same trace and span. Throws ConfigError on invalid baggage or tracestate. */
  with(changes: TraceContextChanges): TraceContext {
    return new TraceContext(this, this.spanStack, this.isRemote, this.#propagated.with(changes));
  }

  /** The `traceparent` value (version 00). */
  get traceparent(): string {
    return this.toHeaders().traceparent;
  }

  /** The W3C headers for this context, formatted once per context. */
  toHeaders(): TraceHeaders {
    if (this.#headers !== undefined) return this.#headers;
    const traceparent = formatTraceparent(this);
    const tracestate = this.#propagated.tracestateHeader;
    const baggage = this.#propagated.baggageHeader;
    let headers: TraceHeaders;
    if (tracestate === "" && baggage === "") headers = { traceparent };
    else if (tracestate === "") headers = { traceparent, baggage };
    else if (baggage === "") headers = { traceparent, tracestate };
    else headers = { traceparent, tracestate, baggage };
    this.#headers = Object.freeze(headers);
    return headers;
  }

  toJSON(): Record<string, unknown> {
    return {
      traceId: this.traceId,
      spanId: this.spanId,
      parentSpanId: this.parentSpanId ?? null,
      spanStack: this.spanStack,
      traceFlags: this.traceFlags,
      isRemote: this.isRemote,
      correlationId: this.correlationId ?? null,
      userId: this.userId ?? null,
      threadId: this.threadId ?? null,
      baggage: Object.fromEntries(this.baggage),
      tracestate: this.tracestate,
    };
  }
}
