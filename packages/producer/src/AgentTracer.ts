import { SpanKind as OtelSpanKind, SpanStatusCode as OtelStatusCode } from "@opentelemetry/api";
import type {
  Attributes,
  AttributeValue,
  Span,
  SpanKind as OtelSpanKindType,
  Tracer,
} from "@opentelemetry/api";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { SpanProcessor, TracerConfig } from "@opentelemetry/sdk-trace-base";
import { defaultContextManager, fromSpanContext, toOtelContext, TraceContext } from "@tracehouse/context";
import type { ContextManager } from "@tracehouse/context";
import { SpanStatusCode } from "@tracehouse/schemas";
import type { Producer } from "./Producer.js";
import { SpanAttribute, TracehouseSpanExporter } from "./TracehouseSpanExporter.js";

export interface AgentTracerOptions {
  /** Finished spans are published as span records through this producer. Default: none. */
  readonly producer?: Producer;
  /** More span processors, e.g. a BatchSpanProcessor over an OTLP exporter. Default: none. */
  readonly spanProcessors?: readonly SpanProcessor[];
  /** Passed to the BasicTracerProvider (resource, sampler, limits, id generator). Default: its defaults. */
  readonly providerConfig?: Omit<TracerConfig, "spanProcessors">;
  /** Instrumentation scope name of the tracer. Default: `"@tracehouse/producer"`. */
  readonly tracerName?: string;
  /** Where `startAgentSpan` finds the parent context when none is given. Default: the process-wide manager. */
  readonly contextManager?: ContextManager;
}

export interface AgentSpanOptions {
  readonly kind?: OtelSpanKindType;
  readonly attributes?: Attributes;
  /** Stored as the `tracehouse.execution_id` attribute. */
  readonly executionId?: string;
  /** Span name. Default: `agent <agentName>`. */
  readonly name?: string;
}

/**
 * One agent's span. Its `context` has the span's ids: records emitted with it carry the
 * OpenTelemetry span id as `span_id`, and its children are the span's children.
 */
export class AgentSpan {
  readonly span: Span;
  readonly context: TraceContext;
  readonly agentName: string;
  readonly #contextManager: ContextManager;

  constructor(span: Span, context: TraceContext, agentName: string, contextManager: ContextManager) {
    this.span = span;
    this.context = context;
    this.agentName = agentName;
    this.#contextManager = contextManager;
  }

  get spanId(): string {
    return this.context.spanId;
  }

  addEvent(name: string, attributes?: Attributes): this {
    this.span.addEvent(name, attributes);
    return this;
  }

  setAttribute(key: string, value: AttributeValue): this {
    this.span.setAttribute(key, value);
    return this;
  }

  /** Records the exception as a span event (type, message, stacktrace). */
  recordException(error: unknown): this {
    this.span.recordException(error instanceof Error ? error : String(error));
    return this;
  }

  setStatus(code: SpanStatusCode, message?: string): this {
    const otelCode =
      code === SpanStatusCode.Ok
        ? OtelStatusCode.OK
        : code === SpanStatusCode.Error
          ? OtelStatusCode.ERROR
          : OtelStatusCode.UNSET;
    this.span.setStatus(message === undefined ? { code: otelCode } : { code: otelCode, message });
    return this;
  }

  /** Runs `fn` with this span's context active. */
  run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
    return this.#contextManager.run(this.context, fn, ...args);
  }

  end(): void {
    this.span.end();
  }
}

/**
 * OpenTelemetry tracing for agents on a BasicTracerProvider of its own (nothing is
 * registered globally). Span ids and trace ids are those of the tracehouse contexts.
 */
export class AgentTracer {
  readonly provider: BasicTracerProvider;
  readonly tracer: Tracer;
  readonly #contextManager: ContextManager;

  constructor(options: AgentTracerOptions = {}) {
    const processors: SpanProcessor[] = [];
    if (options.producer !== undefined) {
      processors.push(new SimpleSpanProcessor(new TracehouseSpanExporter(options.producer)));
    }
    processors.push(...(options.spanProcessors ?? []));
    this.provider = new BasicTracerProvider({ ...options.providerConfig, spanProcessors: processors });
    this.tracer = this.provider.getTracer(options.tracerName ?? "@tracehouse/producer");
    this.#contextManager = options.contextManager ?? defaultContextManager;
  }

  /**
   * Starts the span of one agent as a child of `parent` (default: the active context, else
   * a new trace). Identity fields and baggage of the parent are kept and stored as attributes.
   */
  startAgentSpan(agentName: string, parent?: TraceContext, options: AgentSpanOptions = {}): AgentSpan {
    const base = parent ?? this.#contextManager.active() ?? TraceContext.create();
    const attributes: Attributes = { [SpanAttribute.AgentName]: agentName, ...options.attributes };
    if (options.executionId !== undefined) attributes[SpanAttribute.ExecutionId] = options.executionId;
    if (base.correlationId !== undefined) attributes[SpanAttribute.CorrelationId] = base.correlationId;
    if (base.userId !== undefined) attributes[SpanAttribute.UserId] = base.userId;
    if (base.threadId !== undefined) attributes[SpanAttribute.ThreadId] = base.threadId;
    const span = this.tracer.startSpan(
      options.name ?? `agent ${agentName}`,
      { kind: options.kind ?? OtelSpanKind.INTERNAL, attributes },
      toOtelContext(base),
    );
    return new AgentSpan(span, fromSpanContext(span.spanContext(), base), agentName, this.#contextManager);
  }

  forceFlush(): Promise<void> {
    return this.provider.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

/** Creates an {@link AgentTracer}. */
export function createAgentTracer(options: AgentTracerOptions = {}): AgentTracer {
  return new AgentTracer(options);
}
