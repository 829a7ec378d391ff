/** Phases whose time is reported in the performance-metrics record; any other name is kept under `phases`. */
export const TimingPhase = {
  Initialization: "initialization",
  ToolExecution: "tool_execution",
  LlmProcessing: "llm_processing",
  WebSocketNotification: "websocket_notification",
  QueueWait: "queue_wait",
  DatabaseQuery: "database_query",
  ExternalApi: "external_api",
} as const;
export type TimingPhase = (typeof TimingPhase)[keyof typeof TimingPhase];

/** A running phase; `end()` stops it once and returns its own duration in ms. */
export interface PhaseTimer {
  readonly phase: string;
  end(): number;
}

/** Phase times of one execution in milliseconds. Optional timings are null when never recorded. */
export interface TimingBreakdown {
  readonly initializationMs: number;
  readonly toolExecutionMs: number;
  readonly llmProcessingMs: number;
  readonly websocketNotificationMs: number;
  /** From the collector's creation to `stop()` (or now). */
  readonly totalMs: number;
  /** From the start of the LLM phase open at `markFirstToken()` (else the execution start) to the first token. */
  readonly timeToFirstTokenMs: number | null;
  readonly queueWaitMs: number | null;
  readonly databaseQueryMs: number | null;
  readonly externalApiMs: number | null;
  /** Mean delivery latency of WebSocket notifications as reported with `recordWebSocketLatency`. */
  readonly websocketLatencyMs: number | null;
  /** Every phase by name, the ones above included. */
  readonly phases: Readonly<Record<string, number>>;
}

export interface TimingCollectorOptions {
  /** Monotonic clock in milliseconds. Default: `performance.now`. */
  readonly now?: () => number;
}

interface PhaseState {
  open: number;
  openedAt: number;
  totalMs: number;
}

/**
 * Collects the phase timings of one execution. Timers of the same phase may nest or
 * overlap (parallel tool calls): the phase counts the time at least one of them runs,
 * never twice. Different phases are independent, so a tool call that waits on an LLM
 * counts in both.
 */
export class ExecutionTimingCollector {
  readonly #now: () => number;
  readonly #startedAt: number;
  readonly #phases = new Map<string, PhaseState>();
  #stoppedAt: number | null = null;
  #firstTokenMs: number | null = null;
  #latencySumMs = 0;
  #latencyCount = 0;

  constructor(options: TimingCollectorOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#startedAt = this.#now();
  }

  #state(phase: string): PhaseState {
    let state = this.#phases.get(phase);
    if (state === undefined) {
      state = { open: 0, openedAt: 0, totalMs: 0 };
      this.#phases.set(phase, state);
    }
    return state;
  }

  startPhase(phase: TimingPhase | (string & {})): PhaseTimer {
    const state = this.#state(phase);
    const startedAt = this.#now();
    if (state.open === 0) state.openedAt = startedAt;
    state.open += 1;
    let elapsed: number | null = null;
    return {
      phase,
      end: () => {
        if (elapsed !== null) return elapsed;
        const endedAt = this.#now();
        elapsed = endedAt - startedAt;
        state.open -= 1;
        if (state.open === 0) state.totalMs += endedAt - state.openedAt;
        return elapsed;
      },
    };
  }

  /** Times `fn` (sync or async) as one phase. */
  time<T>(phase: TimingPhase | (string & {}), fn: () => T): T {
    const timer = this.startPhase(phase);
    let result: T;
    try {
      result = fn();
    } catch (error) {
      timer.end();
      throw error;
    }
    if (result instanceof Promise) {
      return result.finally(() => timer.end()) as T;
    }
    timer.end();
    return result;
  }

  /** Adds a duration measured elsewhere to a phase. */
  record(phase: TimingPhase | (string & {}), durationMs: number): void {
    if (Number.isFinite(durationMs) && durationMs >= 0) this.#state(phase).totalMs += durationMs;
  }

  recordQueueWait(durationMs: number): void {
    this.record(TimingPhase.QueueWait, durationMs);
  }

  recordDatabaseQuery(durationMs: number): void {
    this.record(TimingPhase.DatabaseQuery, durationMs);
  }

  recordExternalApi(durationMs: number): void {
    this.record(TimingPhase.ExternalApi, durationMs);
  }

  /** Time spent sending a WebSocket notification. */
  recordWebSocketNotification(durationMs: number): void {
    this.record(TimingPhase.WebSocketNotification, durationMs);
  }

  /** Delivery latency of one WebSocket notification, as the client reported it. */
  recordWebSocketLatency(latencyMs: number): void {
    if (!Number.isFinite(latencyMs) || latencyMs < 0) return;
    this.#latencySumMs += latencyMs;
    this.#latencyCount += 1;
  }

  /** The first streamed token arrived; later calls are ignored. */
  markFirstToken(): void {
    if (this.#firstTokenMs !== null) return;
    const now = this.#now();
    const llm = this.#phases.get(TimingPhase.LlmProcessing);
    const from = llm !== undefined && llm.open > 0 ? llm.openedAt : this.#startedAt;
    this.#firstTokenMs = now - from;
  }

  /** Freezes the total; open phases are counted up to now. Later calls do nothing. */
  stop(): void {
    this.#stoppedAt ??= this.#now();
  }

  get stopped(): boolean {
    return this.#stoppedAt !== null;
  }

  getBreakdown(): TimingBreakdown {
    const end = this.#stoppedAt ?? this.#now();
    const phases: Record<string, number> = {};
    for (const [name, state] of this.#phases) {
      phases[name] = state.totalMs + (state.open > 0 ? Math.max(0, end - state.openedAt) : 0);
    }
    const optional = (phase: string): number | null => phases[phase] ?? null;
    return {
      initializationMs: phases[TimingPhase.Initialization] ?? 0,
      toolExecutionMs: phases[TimingPhase.ToolExecution] ?? 0,
      llmProcessingMs: phases[TimingPhase.LlmProcessing] ?? 0,
      websocketNotificationMs: phases[TimingPhase.WebSocketNotification] ?? 0,
      totalMs: end - this.#startedAt,
      timeToFirstTokenMs: this.#firstTokenMs,
      queueWaitMs: optional(TimingPhase.QueueWait),
      databaseQueryMs: optional(TimingPhase.DatabaseQuery),
      externalApiMs: optional(TimingPhase.ExternalApi),
      websocketLatencyMs: this.#latencyCount === 0 ? null : this.#latencySumMs / this.#latencyCount,
      phases,
    };
  }
}
