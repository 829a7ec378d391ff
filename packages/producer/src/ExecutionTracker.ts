import {
  ConfigError,
  CorrelationRelationship,
  ExecutionLifecycle,
  newEventId,
  RecordType,
} from "@tracehouse/schemas";
import type { Logger, RecordType as RecordTypeT } from "@tracehouse/schemas";
import { TraceContext } from "@tracehouse/context";
import type { AgentSpan } from "./AgentSpan.js";
import type { AgentSpanLink, AgentTracer } from "./AgentTracer.js";
import { EmitResult } from "./emit-result.js";
import { Execution } from "./Execution.js";
import type { ExecutionHost } from "./Execution.js";
import type {
  ChildExecutionOptions,
  MetricsInput,
  StartExecutionOptions,
  TokenUsage,
} from "./execution-options.js";
import { usageMetricsFields } from "./internal/execution-metrics.js";
import { describeError, summarize } from "./internal/summaries.js";
import type { EmitFields, Producer } from "./Producer.js";

export interface ExecutionTrackerOptions {
  /** Gives every execution an OpenTelemetry agent span whose ids are the execution's. Default: none. */
  readonly tracer?: AgentTracer;
  /** Longest input/result summary. Default: 512. */
  readonly summaryMaxChars?: number;
  /** Executions remembered for the `write*` calls; the oldest is forgotten beyond it. Default: 10000. */
  readonly maxOpenExecutions?: number;
  /** Default: the producer's logger. */
  readonly logger?: Logger;
}

/** `writeExecutionStart`: an execution whose id and context the platform manages. */
export interface ExecutionStartData {
  readonly executionId: string;
  readonly agentName: string;
  /** The execution's own trace context. Default: the active context, else a new trace. */
  readonly context?: TraceContext;
  readonly parentExecutionId?: string;
  readonly input?: unknown;
  readonly metadata?: Readonly<Record<string, string>>;
  /** Default: `"running"`. */
  readonly status?: string;
  /** The execution this one retries. Default: none. */
  readonly retryOfExecutionId?: string;
  /** Traces that caused this execution: span links. Default: none. */
  readonly links?: readonly AgentSpanLink[];
}

export interface ExecutionUpdateData {
  readonly executionId: string;
  readonly status: string;
  readonly metadata?: Readonly<Record<string, string>>;
  /** Used when the execution was not started through this tracker. Default: the active context. */
  readonly context?: TraceContext;
  readonly agentName?: string;
}

export interface ExecutionCompleteData {
  readonly executionId: string;
  /** `failed` (or an `error`) ends it as FAILED. Default: `"completed"`. */
  readonly status?: string;
  readonly result?: unknown;
  readonly error?: unknown;
  readonly usage?: TokenUsage;
  /** Used when the execution was not started through this tracker. */
  readonly durationMs?: number;
  readonly context?: TraceContext;
  readonly agentName?: string;
}

export interface PerformanceMetricsData {
  readonly executionId: string;
  readonly metrics: MetricsInput;
  readonly context?: TraceContext;
  readonly agentName?: string;
}

/**
 * The persistence API agent platforms call: executions with their lifecycle, events,
 * timings and sub-agents, written through a producer (never blocking, never throwing on
 * the write* calls).
 */
export class ExecutionTracker {
  readonly #producer: Producer;
  readonly #tracer: AgentTracer | null;
  readonly #logger: Logger;
  readonly #maxOpen: number;
  readonly #open = new Map<string, Execution>();
  readonly #host: ExecutionHost;

  constructor(producer: Producer, options: ExecutionTrackerOptions = {}) {
    this.#producer = producer;
    this.#tracer = options.tracer ?? null;
    this.#logger = options.logger ?? producer.config.logger;
    const summaryMaxChars = options.summaryMaxChars ?? 512;
    if (!Number.isInteger(summaryMaxChars) || summaryMaxChars < 1) {
      throw new ConfigError(`summaryMaxChars must be a positive integer, got ${summaryMaxChars}`);
    }
    this.#maxOpen = options.maxOpenExecutions ?? 10_000;
    if (!Number.isInteger(this.#maxOpen) || this.#maxOpen < 1) {
      throw new ConfigError(`maxOpenExecutions must be a positive integer, got ${this.#maxOpen}`);
    }
    this.#host = {
      emit: (type, fields, context) => this.#emit(type, fields, context),
      startChild: (parent, agentName, childOptions) => this.#startChild(parent, agentName, childOptions),
      finished: (execution) => {
        if (this.#open.get(execution.executionId) === execution) this.#open.delete(execution.executionId);
      },
      run: (context, fn) => producer.config.contextManager.run(context, fn),
      summaryMaxChars,
    };
  }

  /** Executions started and not yet ended. */
  get openExecutions(): number {
    return this.#open.size;
  }

  /** The running execution with this id, if this tracker knows it. */
  execution(executionId: string): Execution | undefined {
    return this.#open.get(executionId);
  }

  /** Bad input to a write method: rejected and counted by the producer (`dropped.invalid`), never thrown. */
  #rejectInput(method: string): false {
    this.#producer.emit(RecordType.Execution, null as never);
    this.#logger.warn(`${method}: expected an object, nothing written`);
    return false;
  }

  #emit<T extends RecordTypeT>(type: T, fields: EmitFields<T>, context: TraceContext): boolean {
    try {
      return this.#producer.emit(type, fields, context) !== EmitResult.Dropped;
    } catch (error) {
      this.#logger.warn(`invalid ${type} record not written`, { error: describeError(error).message });
      return false;
    }
  }

  /**
   * Starts an execution as a new span under `parent` (default: the active context, else a
   * new trace) and writes its STARTED record.
   */
  startExecution(parent: TraceContext | undefined, options: StartExecutionOptions): Execution {
    const base = parent ?? this.#producer.config.contextManager.active() ?? TraceContext.create();
    return this.#begin(base, options, true);
  }

  #begin(
    base: TraceContext,
    options: StartExecutionOptions,
    newSpan: boolean,
    onCreated?: (e: Execution) => void,
    parentSpan?: AgentSpan | null,
  ): Execution {
    if (typeof options.agentName !== "string" || options.agentName.length === 0) {
      throw new ConfigError("agentName must be a non-empty string");
    }
    const executionId = options.executionId ?? newEventId();
    // a context whose span this tracer started already has its span (e.g. an AgentSpan's)
    const tracer = newSpan || this.#tracer?.owns(base) !== true ? this.#tracer : null;
    const span =
      tracer?.startAgentSpan(options.agentName, base, {
        executionId,
        parentExecutionId: options.parentExecutionId,
        retryOfExecutionId: options.retryOfExecutionId,
        links: options.links,
        remoteAgent: options.remoteAgent,
        parentSpan: parentSpan ?? null,
        ...(newSpan ? {} : { ownContext: base }),
      }) ?? null;
    const context = span?.context ?? (newSpan ? base.child() : base);
    const execution = new Execution(this.#host, {
      executionId,
      agentName: options.agentName,
      context,
      parentExecutionId: options.parentExecutionId ?? null,
      metadata: options.metadata ?? {},
      span,
    });
    this.#remember(execution);
    onCreated?.(execution);
    execution.started(options.input, options.status ?? "running", options.retryOfExecutionId);
    return execution;
  }

  #startChild(parent: Execution, agentName: string, options: ChildExecutionOptions): Execution {
    const { relationship = CorrelationRelationship.Subagent, ...rest } = options;
    return this.#begin(
      parent.context,
      { ...rest, agentName, parentExecutionId: parent.executionId },
      true,
      (child) => parent.correlate(child, relationship),
      parent.span,
    );
  }

  #remember(execution: Execution): void {
    if (this.#open.size >= this.#maxOpen) {
      const oldest = this.#open.keys().next().value;
      if (oldest !== undefined) {
        this.#open.delete(oldest);
        this.#logger.debug("forgetting the oldest open execution", { executionId: oldest });
      }
    }
    this.#open.set(execution.executionId, execution);
  }

  #contextOf(data: { readonly context?: TraceContext }): TraceContext {
    return data.context ?? this.#producer.config.contextManager.active() ?? TraceContext.create();
  }

  /** Writes the STARTED record of an execution; its context is used as is. True when accepted. */
  writeExecutionStart(data: ExecutionStartData): boolean {
    if (!isData(data)) return this.#rejectInput("writeExecutionStart");
    try {
      const { context, ...options } = data;
      this.#begin(this.#contextOf({ context }), options, false);
      return true;
    } catch (error) {
      this.#logger.warn("writeExecutionStart failed", { error: describeError(error).message });
      return false;
    }
  }

  /** Writes an UPDATED record. True when accepted. */
  writeExecutionUpdate(data: ExecutionUpdateData): boolean {
    if (!isData(data)) return this.#rejectInput("writeExecutionUpdate");
    const open = this.#open.get(data.executionId);
    if (open !== undefined) return open.update(data.status, data.metadata);
    return this.#emit(
      RecordType.Execution,
      {
        execution_id: data.executionId,
        agent_name: data.agentName ?? null,
        metadata: data.metadata ?? {},
        lifecycle: ExecutionLifecycle.Updated,
        status: data.status,
      },
      this.#contextOf(data),
    );
  }

  /**
   * Writes the COMPLETED (or FAILED) record and, for a known execution, its performance
   * metrics. `usage` adds to the execution's tokens: for a known execution whose metrics
   * record was already written, and for an execution not started here, it goes out in a
   * tokens-only metrics record. True when accepted.
   */
  writeExecutionComplete(data: ExecutionCompleteData): boolean {
    if (!isData(data)) return this.#rejectInput("writeExecutionComplete");
    const failed = data.error !== undefined || data.status === "failed";
    const open = this.#open.get(data.executionId);
    if (open !== undefined) {
      if (data.usage !== undefined) open.addUsage(data.usage);
      return failed
        ? open.fail(data.error ?? new Error(data.status ?? "failed"), { status: data.status ?? "failed" })
        : open.complete(data.result, { status: data.status ?? "completed" });
    }
    const context = this.#contextOf(data);
    if (this.#tracer?.owns(context) === false)
      this.#tracer
        .startAgentSpan(data.agentName ?? "unknown", context, {
          executionId: data.executionId,
          ownContext: context,
          startTime: new Date(Date.now() - (data.durationMs ?? 0)),
        })
        .finish({
          usage: data.usage,
          status: data.status,
          error: failed ? (data.error ?? data.status) : undefined,
        });
    const accepted = this.#emit(
      RecordType.Execution,
      {
        execution_id: data.executionId,
        agent_name: data.agentName ?? null,
        lifecycle: failed ? ExecutionLifecycle.Failed : ExecutionLifecycle.Completed,
        status: data.status ?? (failed ? "failed" : "completed"),
        result_summary: summarize(data.result, this.#host.summaryMaxChars),
        error_message: data.error === undefined ? null : describeError(data.error).message,
        duration_ms: data.durationMs ?? null,
      },
      context,
    );
    if (data.usage === undefined) return accepted;
    const usage = this.#emit(
      RecordType.Metrics,
      {
        execution_id: data.executionId,
        agent_name: data.agentName ?? null,
        ...usageMetricsFields(data.usage),
      },
      context,
    );
    return accepted && usage;
  }

  /**
   * Writes a performance-metrics record now; a known execution then sends at its end only
   * the tokens added since (see `writeExecutionComplete`). True when accepted.
   */
  writePerformanceMetrics(data: PerformanceMetricsData): boolean {
    if (!isData(data)) return this.#rejectInput("writePerformanceMetrics");
    const open = this.#open.get(data.executionId);
    if (open !== undefined) return open.emitMetrics(data.metrics);
    const m = data.metrics;
    return this.#emit(
      RecordType.Metrics,
      {
        execution_id: data.executionId,
        agent_name: data.agentName ?? null,
        initialization_ms: m.initializationMs ?? 0,
        tool_execution_ms: m.toolExecutionMs ?? 0,
        llm_processing_ms: m.llmProcessingMs ?? 0,
        websocket_notification_ms: m.websocketNotificationMs ?? 0,
        total_ms: m.totalMs ?? 0,
        time_to_first_token_ms: m.timeToFirstTokenMs ?? null,
        queue_wait_ms: m.queueWaitMs ?? null,
        database_query_ms: m.databaseQueryMs ?? null,
        external_api_ms: m.externalApiMs ?? null,
        websocket_latency_ms: m.websocketLatencyMs ?? null,
        prompt_tokens: m.promptTokens ?? null,
        completion_tokens: m.completionTokens ?? null,
      },
      this.#contextOf(data),
    );
  }
}

function isData(data: unknown): data is Readonly<Record<string, unknown>> {
  return typeof data === "object" && data !== null;
}

/** Creates an {@link ExecutionTracker} writing through `producer`. */
export function createExecutionTracker(
  producer: Producer,
  options: ExecutionTrackerOptions = {},
): ExecutionTracker {
  return new ExecutionTracker(producer, options);
}
