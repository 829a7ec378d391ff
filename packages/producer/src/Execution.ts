import type { CorrelationRelationship } from "@tracehouse/schemas";
import { AgentEventKind, ErrorSeverity, ExecutionLifecycle, RecordType } from "@tracehouse/schemas";
import type { TraceContext } from "@tracehouse/context";
import type { AgentSpan } from "./AgentSpan.js";
import type {
  ChildExecutionOptions,
  CompleteOptions,
  EventDetails,
  FailOptions,
  LlmCall,
  LlmCallOptions,
  MetricsInput,
  RecordErrorOptions,
  ToolCall,
  ToolCallOptions,
} from "./execution-options.js";
import { ExecutionTimingCollector, TimingPhase } from "./ExecutionTimingCollector.js";
import type { TokenUsage } from "./genai.js";
import { addTokens, metricsFields, usageMetricsFields } from "./internal/execution-metrics.js";
import { describeError, summarize } from "./internal/summaries.js";
import type { EmitFields } from "./Producer.js";

export const ExecutionState = { Running: "running", Completed: "completed", Failed: "failed" } as const;
export type ExecutionState = (typeof ExecutionState)[keyof typeof ExecutionState];

/** What an execution needs from its tracker; not public. */
export interface ExecutionHost {
  emit<T extends RecordType>(type: T, fields: EmitFields<T>, context: TraceContext): boolean;
  startChild(parent: Execution, agentName: string, options: ChildExecutionOptions): Execution;
  finished(execution: Execution): void;
  run<R>(context: TraceContext, fn: () => R): R;
  readonly summaryMaxChars: number;
}

export interface ExecutionInit {
  readonly executionId: string;
  readonly agentName: string;
  readonly context: TraceContext;
  readonly parentExecutionId: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly span: AgentSpan | null;
}

/**
 * One agent execution: lifecycle records (STARTED, UPDATED, COMPLETED or FAILED), agent
 * events, phase timings and, at the end, its performance-metrics record. Every method
 * returns true when its record was taken (or deliberately sampled out), false when it was
 * invalid or dropped. Create it with `ExecutionTracker.startExecution` or `startChild`.
 */
export class Execution {
  readonly executionId: string;
  readonly agentName: string;
  /** The execution's own span: every record of the execution carries its ids. */
  readonly context: TraceContext;
  readonly parentExecutionId: string | null;
  readonly timing = new ExecutionTimingCollector();
  /** The OpenTelemetry span, when the tracker has an AgentTracer. */
  readonly span: AgentSpan | null;
  readonly #metadata: Readonly<Record<string, string>>;
  readonly #host: ExecutionHost;
  #state: ExecutionState = ExecutionState.Running;
  #metrics: MetricsInput = {};
  /** Token totals carried by the metrics records sent so far; null until the first one. */
  #reportedTokens: { promptTokens: number; completionTokens: number } | null = null;

  constructor(host: ExecutionHost, init: ExecutionInit) {
    this.#host = host;
    this.executionId = init.executionId;
    this.agentName = init.agentName;
    this.context = init.context;
    this.parentExecutionId = init.parentExecutionId;
    this.#metadata = init.metadata;
    this.span = init.span;
  }

  get state(): ExecutionState {
    return this.#state;
  }

  /**
   * A record's fields after the execution's envelope. Object.assign, not `{ ...envelope, field }`:
   * in Node 20's V8 an object literal that starts with a spread and adds properties after it takes
   * 4–9 µs, Object.assign 0.2–0.3 µs (measured), and this runs for every record an agent emits.
   */
  #withEnvelope<F extends object>(fields: F) {
    return Object.assign(
      { execution_id: this.executionId, agent_name: this.agentName, metadata: this.#metadata },
      fields,
    );
  }

  #execution(
    lifecycle: ExecutionLifecycle,
    status: string,
    extra: Partial<EmitFields<typeof RecordType.Execution>> = {},
  ): boolean {
    return this.#host.emit(
      RecordType.Execution,
      this.#withEnvelope({ lifecycle, status, parent_execution_id: this.parentExecutionId, ...extra }),
      this.context,
    );
  }

  /** @internal Emits the STARTED record. */
  started(input: unknown, status: string, retryOfExecutionId?: string): boolean {
    return this.#execution(ExecutionLifecycle.Started, status, {
      input_summary: summarize(input, this.#host.summaryMaxChars),
      ...(retryOfExecutionId === undefined ? {} : { retry_of_execution_id: retryOfExecutionId }),
    });
  }

  /** Records a new state (e.g. `waiting_for_tool`). False once the execution has ended. */
  update(status: string, metadata?: Readonly<Record<string, string>>): boolean {
    if (this.#state !== ExecutionState.Running) return false;
    return this.#execution(ExecutionLifecycle.Updated, status, {
      duration_ms: this.timing.getBreakdown().totalMs,
      ...(metadata === undefined ? {} : { metadata: Object.assign({}, this.#metadata, metadata) }),
    });
  }

  recordEvent(kind: AgentEventKind, name: string, details: EventDetails = {}): boolean {
    return this.#host.emit(
      RecordType.Event,
      this.#withEnvelope({
        event_kind: kind,
        name,
        status: details.status ?? null,
        duration_ms: details.durationMs ?? null,
        payload_bytes: details.payloadBytes ?? null,
        attributes: details.attributes ?? {},
      }),
      this.context,
    );
  }

  /** Records TOOL_CALL_START now and times the `tool_execution` phase until `end()`. */
  startToolCall(
    name: string,
    attributes?: Readonly<Record<string, string>>,
    options: ToolCallOptions = {},
  ): ToolCall {
    this.recordEvent(AgentEventKind.ToolCallStart, name, attributes === undefined ? {} : { attributes });
    const span = this.span?.startToolCall({ name, ...options });
    const timer = this.timing.startPhase(TimingPhase.ToolExecution);
    let ended = false;
    return {
      end: ({ result, error, ...details } = {}) => {
        if (ended) return false;
        ended = true;
        span?.end({ result, error });
        return this.recordEvent(
          AgentEventKind.ToolCallEnd,
          name,
          Object.assign({}, details, { durationMs: timer.end() }),
        );
      },
    };
  }

  /** Records LLM_CALL_START now and times the `llm_processing` phase until `end()`. */
  startLlmCall(
    model: string,
    attributes?: Readonly<Record<string, string>>,
    options: LlmCallOptions = {},
  ): LlmCall {
    this.recordEvent(AgentEventKind.LlmCallStart, model, attributes === undefined ? {} : { attributes });
    const span = this.span?.startLlmCall({ model, ...options });
    const timer = this.timing.startPhase(TimingPhase.LlmProcessing);
    let sawFirstToken = false;
    let ended = false;
    return {
      firstToken: () => {
        if (sawFirstToken || ended) return false;
        sawFirstToken = true;
        span?.firstChunk();
        this.timing.markFirstToken();
        return this.recordEvent(AgentEventKind.LlmFirstToken, model, {
          durationMs: this.timing.getBreakdown().timeToFirstTokenMs ?? undefined,
        });
      },
      end: (details = {}) => {
        if (ended) return false;
        ended = true;
        const { usage, responseModel, responseId, finishReasons, outputMessages, error, ...rest } = details;
        span?.end({ usage, responseModel, responseId, finishReasons, outputMessages, error });
        if (usage !== undefined) this.addUsage(usage);
        return this.recordEvent(
          AgentEventKind.LlmCallEnd,
          model,
          Object.assign({}, rest, { durationMs: timer.end() }),
        );
      },
    };
  }

  /**
   * Records a WebSocket notification on `channel`: the time spent sending it counts in the
   * `websocket_notification` phase, the delivery latency (when known) in `websocket_latency_ms`.
   */
  recordWebSocketNotification(
    channel: string,
    details: EventDetails & { readonly latencyMs?: number } = {},
  ): boolean {
    const { latencyMs, ...event } = details;
    if (event.durationMs !== undefined) this.timing.recordWebSocketNotification(event.durationMs);
    if (latencyMs !== undefined) this.timing.recordWebSocketLatency(latencyMs);
    return this.recordEvent(AgentEventKind.WebsocketNotification, channel, event);
  }

  /** Adds token counts to the execution's totals. */
  addUsage(usage: TokenUsage): void {
    const current = this.#metrics;
    this.#metrics = Object.assign({}, current, {
      promptTokens: addTokens(current.promptTokens, usage.promptTokens),
      completionTokens: addTokens(current.completionTokens, usage.completionTokens),
    });
  }

  /** Values for the performance-metrics record sent at the end; given fields replace the measured ones. */
  recordMetrics(metrics: MetricsInput): void {
    this.#metrics = Object.assign({}, this.#metrics, metrics);
  }

  /**
   * @internal Emits the metrics record now; the end of the execution then sends only the
   * tokens added since, in a tokens-only record, so sums over metrics records stay right.
   */
  emitMetrics(metrics: MetricsInput = {}): boolean {
    this.recordMetrics(metrics);
    this.#reportedTokens = this.#tokenTotals();
    return this.#host.emit(
      RecordType.Metrics,
      this.#withEnvelope(metricsFields(this.timing.getBreakdown(), this.#metrics)),
      this.context,
    );
  }

  #tokenTotals(): { promptTokens: number; completionTokens: number } {
    return {
      promptTokens: this.#metrics.promptTokens ?? 0,
      completionTokens: this.#metrics.completionTokens ?? 0,
    };
  }

  #finalMetrics(): boolean {
    const reported = this.#reportedTokens;
    if (reported === null) return this.emitMetrics();
    const totals = this.#tokenTotals();
    const promptTokens = totals.promptTokens - reported.promptTokens;
    const completionTokens = totals.completionTokens - reported.completionTokens;
    if (promptTokens <= 0 && completionTokens <= 0) return true;
    this.#reportedTokens = totals;
    return this.#host.emit(
      RecordType.Metrics,
      this.#withEnvelope(
        usageMetricsFields({
          ...(promptTokens > 0 ? { promptTokens } : {}),
          ...(completionTokens > 0 ? { completionTokens } : {}),
        }),
      ),
      this.context,
    );
  }

  /** Logs an error that did not end the execution. */
  recordError(error: unknown, options: RecordErrorOptions = {}): boolean {
    return this.#errorRecord(error, options.phase, options.severity ?? ErrorSeverity.Warning);
  }

  #errorRecord(error: unknown, phase: string | undefined, severity: ErrorSeverity): boolean {
    const described = describeError(error);
    return this.#host.emit(
      RecordType.Error,
      this.#withEnvelope({
        error_class: described.errorClass,
        message: described.message,
        stack: described.stack,
        code: described.code,
        retriable: described.retriable,
        phase: phase ?? null,
        severity,
      }),
      this.context,
    );
  }

  /** Ends the execution: COMPLETED record, then its performance metrics. False if already ended. */
  complete(result?: unknown, options: CompleteOptions = {}): boolean {
    if (this.#state !== ExecutionState.Running) return false;
    this.#state = ExecutionState.Completed;
    this.timing.stop();
    if (options.usage !== undefined) this.addUsage(options.usage);
    const accepted = this.#execution(ExecutionLifecycle.Completed, options.status ?? "completed", {
      result_summary: summarize(result, this.#host.summaryMaxChars),
      duration_ms: this.timing.getBreakdown().totalMs,
    });
    const metrics = this.#finalMetrics();
    this.span?.finish({
      timing: this.timing.getBreakdown(),
      usage: this.#tokenTotals(),
      status: options.status,
    });
    this.#host.finished(this);
    return accepted && metrics;
  }

  /** Ends the execution as failed: FAILED record, an error record, then its performance metrics. */
  fail(error: unknown, options: FailOptions = {}): boolean {
    if (this.#state !== ExecutionState.Running) return false;
    this.#state = ExecutionState.Failed;
    this.timing.stop();
    const described = describeError(error);
    const accepted = this.#execution(ExecutionLifecycle.Failed, options.status ?? "failed", {
      error_message: described.message,
      duration_ms: this.timing.getBreakdown().totalMs,
    });
    const logged = this.#errorRecord(error, options.phase, options.severity ?? ErrorSeverity.Error);
    const metrics = this.#finalMetrics();
    this.span?.finish({ timing: this.timing.getBreakdown(), usage: this.#tokenTotals(), error });
    this.#host.finished(this);
    return accepted && logged && metrics;
  }

  /** Starts a sub-agent: a child span, a correlation record linking both, and the child's STARTED record. */
  startChild(agentName: string, options: ChildExecutionOptions = {}): Execution {
    return this.#host.startChild(this, agentName, options);
  }

  /** @internal Emits the correlation record of a child. */
  correlate(child: Execution, relationship: CorrelationRelationship): boolean {
    return this.#host.emit(
      RecordType.Correlation,
      this.#withEnvelope({
        parent_execution_id: this.executionId,
        child_execution_id: child.executionId,
        child_span_id: child.context.spanId,
        child_agent_name: child.agentName,
        relationship,
      }),
      this.context,
    );
  }

  /** Runs `fn` with the execution's context active, so records emitted inside carry it. */
  run<R>(fn: () => R): R {
    return this.#host.run(this.context, fn);
  }
}
