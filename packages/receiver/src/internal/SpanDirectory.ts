import type { CorrelationRelationship } from "@tracehouse/schemas";
import { executionIdOf } from "./ids.js";

/**
 * A correlation waiting for its parent span: a sub-agent (SUBAGENT), or a non-GenAI span whose
 * id a call or sub-agent already used as its execution (FOLLOWS_FROM, a bridge to the agent above).
 */
export interface PendingLink {
  readonly childExecutionId: string;
  readonly childSpanId: string;
  readonly childAgentName: string | null;
  readonly startUs: number;
  readonly relationship: CorrelationRelationship;
}

/** The execution a span belongs to, as far as the spans seen so far tell. */
export interface Resolution {
  /** Execution id of the nearest `invoke_agent` ancestor, or of the first unseen ancestor (assumed an agent); null when none. */
  readonly executionId: string | null;
  /** The span id behind `executionId`. */
  readonly spanId: string | null;
  /** True when every span on the way was seen: the answer is certain. */
  readonly known: boolean;
  readonly agentName: string | null;
}

/** What an arriving span brings out: the links that waited for it, and whether its id was used as an execution. */
export interface Arrival {
  readonly pending: readonly PendingLink[];
  readonly referenced: boolean;
}

interface Entry {
  /** False for a placeholder of a span not yet arrived, holding what waits for it. */
  seen: boolean;
  parent: string | null;
  agentName: string | null;
  agent: boolean;
  pending: PendingLink[] | null;
  referenced: boolean;
}

const MAX_HOPS = 64;
const MAX_PENDING = 256;
const NONE: Resolution = { executionId: null, spanId: null, known: true, agentName: null };
const NOTHING: Arrival = { pending: [], referenced: false };

/**
 * Recently seen spans per trace: which are agents and who their parents are, bounded
 * (the oldest are forgotten first). Spans of one trace arrive over many requests and
 * children before parents; this lets a child's execution be resolved through parents that
 * arrived earlier, and keeps correlations until the span they hang from arrives.
 */
export class SpanDirectory {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Records an arrived span and hands over what waited for it (once). */
  learn(
    traceId: string,
    spanId: string,
    parent: string | null,
    agentName: string | null,
    agent: boolean,
  ): Arrival {
    const key = traceId + spanId;
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.seen) return NOTHING;
    if (entry !== undefined) this.#entries.delete(key);
    this.#put(key, { seen: true, parent, agentName, agent, pending: null, referenced: false });
    return entry === undefined ? NOTHING : { pending: entry.pending ?? [], referenced: entry.referenced };
  }

  /** The execution of a span whose parent is `parent`. */
  resolve(traceId: string, parent: string | null): Resolution {
    let current = parent;
    for (let hop = 0; hop < MAX_HOPS && current !== null; hop++) {
      const entry = this.#entries.get(traceId + current);
      if (entry === undefined || !entry.seen) {
        return {
          executionId: executionIdOf(traceId, current),
          spanId: current,
          known: false,
          agentName: null,
        };
      }
      if (entry.agent) {
        return {
          executionId: executionIdOf(traceId, current),
          spanId: current,
          known: true,
          agentName: entry.agentName,
        };
      }
      current = entry.parent;
    }
    return NONE;
  }

  /** Keeps a correlation until the span `parentSpanId` arrives. */
  defer(traceId: string, parentSpanId: string, link: PendingLink): void {
    const entry = this.#placeholder(traceId, parentSpanId);
    if (entry === null) return;
    entry.pending ??= [];
    if (entry.pending.length < MAX_PENDING) entry.pending.push(link);
  }

  /** Notes that records used the unseen span `spanId` as their execution. */
  reference(traceId: string, spanId: string): void {
    const entry = this.#placeholder(traceId, spanId);
    if (entry !== null) entry.referenced = true;
  }

  #placeholder(traceId: string, spanId: string): Entry | null {
    const key = traceId + spanId;
    const entry = this.#entries.get(key);
    if (entry !== undefined) return entry.seen ? null : entry;
    const created: Entry = {
      seen: false,
      parent: null,
      agentName: null,
      agent: false,
      pending: null,
      referenced: false,
    };
    this.#put(key, created);
    return created;
  }

  #put(key: string, entry: Entry): void {
    const entries = this.#entries;
    entries.set(key, entry);
    if (entries.size <= this.#maxEntries) return;
    // forget the oldest tenth in one pass: a fresh iterator per deletion walks the tombstones
    // left at the front of the Map and makes eviction quadratic
    const keep = Math.floor(this.#maxEntries * 0.9);
    for (const oldest of entries.keys()) {
      if (entries.size <= keep) break;
      entries.delete(oldest);
    }
  }
}
