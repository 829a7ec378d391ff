import { executionIdOf } from "./ids.js";

/** A sub-agent whose parent span had not arrived yet: its correlation record waits for it. */
export interface PendingSubagent {
  readonly childExecutionId: string;
  readonly childSpanId: string;
  readonly childAgentName: string | null;
  readonly startUs: number;
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

interface Entry {
  /** Null until the span itself arrived (a placeholder holding pending sub-agents). */
  seen: boolean;
  parent: string | null;
  agentName: string | null;
  agent: boolean;
  pending: PendingSubagent[] | null;
}

const MAX_HOPS = 64;
const MAX_PENDING = 256;
const NONE: Resolution = { executionId: null, spanId: null, known: true, agentName: null };

/**
 * Recently seen spans per trace: which are agents and who their parents are, bounded
 * (the oldest are forgotten first). Spans of one trace arrive over many requests and
 * children before parents; this lets a child's execution be resolved through parents that
 * arrived earlier, and keeps the correlation of a sub-agent until its parent arrives.
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

  /** Records an arrived span; returns the sub-agents that waited for it when it is an agent. */
  learn(
    traceId: string,
    spanId: string,
    parent: string | null,
    agentName: string | null,
    agent: boolean,
  ): PendingSubagent[] {
    const key = traceId + spanId;
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.seen) return [];
    const pending = entry?.pending ?? null;
    if (entry !== undefined) this.#entries.delete(key);
    this.#put(key, { seen: true, parent, agentName, agent, pending: null });
    return agent && pending !== null ? pending : [];
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

  /** Keeps a sub-agent's correlation until the span `parentSpanId` arrives (and proves an agent). */
  defer(traceId: string, parentSpanId: string, subagent: PendingSubagent): void {
    const key = traceId + parentSpanId;
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { seen: false, parent: null, agentName: null, agent: false, pending: null };
      this.#put(key, entry);
    }
    entry.pending ??= [];
    if (entry.pending.length < MAX_PENDING) entry.pending.push(subagent);
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
