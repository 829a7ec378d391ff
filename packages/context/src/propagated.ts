// What a trace context carries from span to span and across processes: the identity fields,
// baggage and tracestate, validated once, with their header values formatted once.
import { ConfigError } from "@tracehouse/schemas";
import {
  forEachBaggageMember,
  formatBaggageMembers,
  isValidBaggageKey,
  normalizeBaggageMetadata,
  type Baggage,
  type BaggageEntry,
} from "./baggage.js";
import { PairCache } from "./internal/PairCache.js";
import { formatTracestate, parseTracestate } from "./tracestate.js";

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

/** Baggage given by the application: a map of entries or a record of plain values or entries. */
export type BaggageInput = Baggage | Readonly<Record<string, string | BaggageEntry>>;

/** Fields to replace in {@link TraceContext.with}; `null` clears an identity field. */
export interface TraceContextChanges {
  readonly correlationId?: string | null;
  readonly userId?: string | null;
  readonly threadId?: string | null;
  /** Replaces all baggage entries (identity fields are kept unless the input sets them). */
  readonly baggage?: BaggageInput;
  readonly tracestate?: readonly string[];
}

export interface Identity {
  readonly correlationId: string | undefined;
  readonly userId: string | undefined;
  readonly threadId: string | undefined;
}

const NO_IDENTITY: Identity = { correlationId: undefined, userId: undefined, threadId: undefined };
const EMPTY_BAGGAGE: Baggage = new Map();
export const EMPTY_LIST: readonly string[] = Object.freeze([]);

/** The part of a context that travels unchanged from parent to child span; its headers are formatted once. */
export class Propagated {
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

export const EMPTY_PROPAGATED = new Propagated(NO_IDENTITY, EMPTY_BAGGAGE, EMPTY_LIST);

/** True for the baggage keys of the identity fields ({@link ContextBaggageKey}). */
export function isIdentityKey(key: string): boolean {
  return (
    key === ContextBaggageKey.CorrelationId ||
    key === ContextBaggageKey.UserId ||
    key === ContextBaggageKey.ThreadId
  );
}

/** Splits the identity entries out of valid baggage. */
export function splitIdentity(baggage: Baggage): { identity: Identity; baggage: Baggage } {
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

export function propagatedFromHeaders(baggageHeader: string, tracestateHeader: string): Propagated {
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
