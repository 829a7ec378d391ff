import { ConfigError } from "@tracehouse/schemas";
import {
  forEachBaggageMember,
  formatBaggageMembers,
  isValidBaggageKey,
  normalizeBaggageMetadata,
  type Baggage,
  type BaggageEntry,
} from "./baggage.js";
import type { HeaderCarrier } from "./header-carrier.js";
import { PairCache } from "./internal/PairCache.js";
import { collectTraceHeaders } from "./internal/carrier.js";
import { combineValues } from "./internal/list.js";
import { randomSpanId, randomTraceId } from "./internal/ids.js";
import { formatTraceparent, parseTraceparent, TraceFlag, type Traceparent } from "./traceparent.js";
import { formatTracestate, parseTracestate } from "./tracestate.js";

/** Header names, lowercase as the specs recommend sending them. */
export const TraceHeader = {
  Traceparent: "traceparent",
  Tracestate: "tracestate",
  Baggage: "baggage",
} as const;
export type TraceHeader = (typeof TraceHeader)[keyof typeof TraceHeader];

/**
 * Baggage keys that carry the tracehouse identity fields. They travel as ordinary W3C
 * baggage list-members, so any compliant hop (proxy, other vendor, OTel SDK) passes them on.
 */
export const ContextBaggageKey = {
  CorrelationId: "th.correlation_id",
  UserId: "th.user_id",
  ThreadId: "th.thread_id",
} as const;
export type ContextBaggageKey = (typeof ContextBaggageKey)[keyof typeof ContextBaggageKey];

/** The W3C headers of one context; `tracestate`/`baggage` only when non-empty. */
export type TraceHeaders = {
  readonly traceparent: string;
  readonly tracestate?: string;
  readonly baggage?: string;
};

/** Baggage given by the application: a map of entries or a record of plain values or entries. */
export type BaggageInput = Baggage | Readonly<Record<string, string | BaggageEntry>>;

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

/** Fields to replace in {@link TraceContext.with}; `null` clears an identity field. */
export interface TraceContextChanges {
  readonly correlationId?: string | null;
  readonly userId?: string | null;
  readonly threadId?: string | null;
  /** Replaces all baggage entries (identity fields are kept unless the input sets them). */
  readonly baggage?: BaggageInput;
  readonly tracestate?: readonly string[];
}

export interface ChildOptions {
  /** A new sampling decision for the child span. Default: the parent's. */
  readonly sampled?: boolean;
}

interface Identity {
  readonly correlationId: string | undefined;
  readonly userId: string | undefined;
  readonly threadId: string | undefined;
}

const NO_IDENTITY: Identity = { correlationId: undefined, userId: undefined, threadId: undefined };
const EMPTY_BAGGAGE: Baggage = new Map();
const EMPTY_LIST: readonly string[] = Object.freeze([]);

/** The part of a context that travels unchanged from parent to child span; its headers are formatted once. */
class Propagated {
  #baggageHeader: string | undefined;
  #tracestateHeader: string | undefined;

  constructor(
    readonly identity: Identity,
    readonly baggage: Baggage,
    readonly tracestate: readonly string[],
  ) {}

  get baggageHeader(): string {
    if (this.#baggageHeader === undefined) this.#baggageHeader = formatBaggageMembers(this.members());
    return this.#baggageHeader;
  }

  get tracestateHeader(): string {
    if (this.#tracestateHeader === undefined) this.#tracestateHeader = formatTracestate(this.tracestate);
    return this.#tracestateHeader;
  }

  with(changes: TraceContextChanges): Propagated {
    let identity = this.identity;
    let baggage = this.baggage;
    if (changes.baggage !== undefined) {
      const split = splitIdentity(resolveBaggage(changes.baggage));
      baggage = split.baggage;
      identity = {
        correlationId: split.identity.correlationId ?? identity.correlationId,
        userId: split.identity.userId ?? identity.userId,
        threadId: split.identity.threadId ?? identity.threadId,
      };
    }
    identity = {
      correlationId: change(identity.correlationId, changes.correlationId),
      userId: change(identity.userId, changes.userId),
      threadId: change(identity.threadId, changes.threadId),
    };
    const tracestate =
      changes.tracestate === undefined ? this.tracestate : resolveTracestate(changes.tracestate);
    return new Propagated(identity, baggage, tracestate);
  }

  /** All baggage members, identity entries first so they are never the ones dropped by the limits. */
  members(): [string, BaggageEntry][] {
    const { correlationId, userId, threadId } = this.identity;
    const members: [string, BaggageEntry][] = [];
    if (correlationId !== undefined)
      members.push([ContextBaggageKey.CorrelationId, { value: correlationId }]);
    if (userId !== undefined) members.push([ContextBaggageKey.UserId, { value: userId }]);
    if (threadId !== undefined) members.push([ContextBaggageKey.ThreadId, { value: threadId }]);
    for (const member of this.baggage) members.push(member);
    return members;
  }
}

const EMPTY_PROPAGATED = new Propagated(NO_IDENTITY, EMPTY_BAGGAGE, EMPTY_LIST);

/** True for the baggage keys of the identity fields ({@link ContextBaggageKey}). */
export function isIdentityKey(key: string): boolean {
  return (
    key === ContextBaggageKey.CorrelationId ||
    key === ContextBaggageKey.UserId ||
    key === ContextBaggageKey.ThreadId
  );
}

/** Splits the identity entries out of valid baggage. */
function splitIdentity(baggage: Baggage): { identity: Identity; baggage: Baggage } {
  const correlation = baggage.get(ContextBaggageKey.CorrelationId);
  const user = baggage.get(ContextBaggageKey.UserId);
  const thread = baggage.get(ContextBaggageKey.ThreadId);
  if (correlation === undefined && user === undefined && thread === undefined)
    return { identity: NO_IDENTITY, baggage };
  const rest = new Map<string, BaggageEntry>();
  for (const [key, entry] of baggage) if (!isIdentityKey(key)) rest.set(key, entry);
  return {
    identity: { correlationId: correlation?.value, userId: user?.value, threadId: thread?.value },
    baggage: rest,
  };
}

/**
 * Incoming baggage and tracestate repeat across the messages of a trace or a user, so
 * their parsed form (and its formatted headers) is kept for the last few hundred distinct
 * header values.
 */
const incomingCache = new PairCache<Propagated>(512, 2048);

function parsePropagated(baggageHeader: string, tracestateHeader: string): Propagated {
  let correlationId: string | undefined;
  let userId: string | undefined;
  let threadId: string | undefined;
  let baggage: Map<string, BaggageEntry> | undefined;
  forEachBaggageMember(baggageHeader, (key, entry) => {
    if (key === ContextBaggageKey.CorrelationId) correlationId = entry.value;
    else if (key === ContextBaggageKey.UserId) userId = entry.value;
    else if (key === ContextBaggageKey.ThreadId) threadId = entry.value;
    else (baggage ??= new Map()).set(key, entry);
  });
  const identity =
    correlationId === undefined && userId === undefined && threadId === undefined
      ? NO_IDENTITY
      : { correlationId, userId, threadId };
  const tracestate = tracestateHeader === "" ? null : parseTracestate(tracestateHeader);
  return new Propagated(
    identity,
    baggage ?? EMPTY_BAGGAGE,
    tracestate === null ? EMPTY_LIST : Object.freeze(tracestate),
  );
}

function propagatedFromHeaders(baggageHeader: string, tracestateHeader: string): Propagated {
  if (baggageHeader === "" && tracestateHeader === "") return EMPTY_PROPAGATED;
  let propagated = incomingCache.get(tracestateHeader, baggageHeader);
  if (propagated === undefined) {
    propagated = parsePropagated(baggageHeader, tracestateHeader);
    incomingCache.set(tracestateHeader, baggageHeader, propagated);
  }
  return propagated;
}

/** Validates application baggage; throws ConfigError on a key or metadata the header could not carry. */
function resolveBaggage(input: BaggageInput): Baggage {
  const entries: Iterable<readonly [string, string | BaggageEntry]> =
    input instanceof Map ? input : Object.entries(input as Readonly<Record<string, string | BaggageEntry>>);
  const baggage = new Map<string, BaggageEntry>();
  for (const [key, raw] of entries) {
    if (!isValidBaggageKey(key))
      throw new ConfigError(`baggage key ${JSON.stringify(key)} is not an RFC 7230 token`);
    const entry = typeof raw === "string" ? { value: raw } : raw;
    if (typeof entry?.value !== "string") throw new ConfigError(`baggage entry ${key} has no string value`);
    if (entry.metadata === undefined || entry.metadata === "") {
      baggage.set(key, { value: entry.value });
      continue;
    }
    const metadata = normalizeBaggageMetadata(entry.metadata);
    if (metadata === null)
      throw new ConfigError(`baggage entry ${key} has invalid metadata ${JSON.stringify(entry.metadata)}`);
    baggage.set(key, { value: entry.value, metadata });
  }
  return baggage;
}

/** Validates application tracestate; throws ConfigError on an invalid member or a repeated key. */
function resolveTracestate(members: readonly string[]): readonly string[] {
  const parsed = parseTracestate(members.join(","));
  if (parsed === null) {
    throw new ConfigError(`invalid tracestate ${JSON.stringify(members)}`);
  }
  const keys = new Set<string>();
  for (const member of members) {
    const key = member.trim().split("=", 1)[0] as string;
    if (key === "") continue;
    if (keys.has(key)) throw new ConfigError(`tracestate key ${JSON.stringify(key)} is repeated`);
    keys.add(key);
  }
  return Object.freeze(parsed.slice());
}

function change(current: string | undefined, next: string | null | undefined): string | undefined {
  return next === undefined ? current : (next ?? undefined);
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
