import { ROOT_CONTEXT, SpanKind as OtelSpanKind, trace } from "@opentelemetry/api";
import type { Attributes, Context, Link, SpanKind as OtelSpanKindType, Tracer } from "@opentelemetry/api";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { SpanProcessor, TracerConfig } from "@opentelemetry/sdk-trace-base";
import { defaultContextManager, fromSpanContext, toOtelContext, TraceContext } from "@tracehouse/context";
import type { ContextManager } from "@tracehouse/context";
import { AgentSpan } from "./AgentSpan.js";
import type { AgentSpanHost } from "./AgentSpan.js";
import { agentSpanAttributes, agentSpanName, TracehouseAttribute } from "./genai.js";
import { RecentSet } from "./internal/RecentSet.js";
import { SteeredIdGenerator } from "./internal/SteeredIdGenerator.js";
import { otlpSpanProcessor, otlpWanted, tracerResource } from "./otlp.js";
import type { OtlpOptions } from "./otlp.js";
import type { Producer } from "./Producer.js";
import { TracehouseSpanExporter } from "./TracehouseSpanExporter.js";

/** Span ids this tracer remembers having started, to tell a parent span from a new trace's seed. */
const REMEMBERED_SPANS = 65_536;

export interface AgentTracerOptions {
  /** Finished spans are published as span records through this producer. Default: none. */
  readonly producer?: Producer;
  /**
   * Export over OTLP/HTTP (protobuf) through a BatchSpanProcessor: `true` or options, `false`
   * never. Default: on when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
   * is set (and `OTEL_TRACES_EXPORTER` is not `none`), every other setting from the standard
   * `OTEL_EXPORTER_OTLP_*` variables.
   */
  readonly otlp?: OtlpOptions | boolean;
  /**
   * Record message content (LLM input/output messages, tool arguments and results) on spans.
   * Default: `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`, else off.
   */
  readonly captureContent?: boolean;
  /** More span processors. Default: none. */
  readonly spanProcessors?: readonly SpanProcessor[];
  /**
   * Passed to the BasicTracerProvider (sampler, limits, id generator). Its `resource` is merged
   * over the SDK's default resource, and `OTEL_SERVICE_NAME`/`OTEL_RESOURCE_ATTRIBUTES` over it.
   * Default: the SDK's defaults.
   */
  readonly providerConfig?: Omit<TracerConfig, "spanProcessors">;
  /** Instrumentation scope name of the tracer. Default: `"@tracehouse/producer"`. */
  readonly tracerName?: string;
  /** Where `startAgentSpan` finds the parent context when none is given. Default: the process-wide manager. */
  readonly contextManager?: ContextManager;
}

/** A trace that caused this span: a retried execution, the request that queued a job. */
export interface AgentSpanLink {
  readonly context: TraceContext;
  /** Stored as `tracehouse.link.reason`, e.g. `retry_of`, `queued_from`. Default: none. */
  readonly reason?: string;
}

export interface AgentSpanOptions {
  /** Default: CLIENT when `remoteAgent`, else INTERNAL. */
  readonly kind?: OtelSpanKindType;
  /** The agent runs in another process: the span is the conventions' CLIENT `invoke_agent`. Default: false. */
  readonly remoteAgent?: boolean;
  readonly attributes?: Attributes;
  /** Stored as `gen_ai.agent.id` and `tracehouse.execution_id`. */
  readonly executionId?: string;
  readonly parentExecutionId?: string;
  readonly retryOfExecutionId?: string;
  readonly links?: readonly AgentSpanLink[];
  /**
   * The span's own context, when the platform manages it (`writeExecutionStart`): the span
   * gets its trace and span ids, and its parent is that context's parent span (none when the
   * context has no local ancestors). A span this tracer already started gets a child span.
   */
  readonly ownContext?: TraceContext;
  /** Default: now. */
  readonly startTime?: Date;
  /**
   * The parent's AgentSpan, when `parent` is its context: the child then shares the parent's
   * clock, so its times never fall outside the parent's. Default: none.
   */
  readonly parentSpan?: AgentSpan | null;
  /** Span name. Default: `invoke_agent <agentName>`. */
  readonly name?: string;
}

/**
 * OpenTelemetry tracing for agents on a BasicTracerProvider of its own (nothing is
 * registered globally): `invoke_agent` spans for executions, with LLM and tool spans under
 * them, following the GenAI semantic conventions. Span ids and trace ids are those of the
 * tracehouse contexts.
 */
export class AgentTracer {
  readonly provider: BasicTracerProvider;
  readonly tracer: Tracer;
  readonly #contextManager: ContextManager;
  readonly #ids: SteeredIdGenerator;
  readonly #started = new RecentSet(REMEMBERED_SPANS);
  readonly #host: AgentSpanHost;

  constructor(options: AgentTracerOptions = {}) {
    const processors: SpanProcessor[] = [];
    if (options.producer !== undefined) {
      processors.push(new SimpleSpanProcessor(new TracehouseSpanExporter(options.producer)));
    }
    if (otlpWanted(options.otlp)) {
      processors.push(otlpSpanProcessor(typeof options.otlp === "object" ? options.otlp : {}));
    }
    processors.push(...(options.spanProcessors ?? []));
    this.#ids = new SteeredIdGenerator(options.providerConfig?.idGenerator);
    this.provider = new BasicTracerProvider(
      Object.assign({}, options.providerConfig, {
        resource: tracerResource(options.providerConfig?.resource),
        idGenerator: this.#ids,
        spanProcessors: processors,
      }),
    );
    this.tracer = this.provider.getTracer(options.tracerName ?? "@tracehouse/producer");
    this.#contextManager = options.contextManager ?? defaultContextManager;
    this.#host = {
      tracer: this.tracer,
      contextManager: this.#contextManager,
      captureContent:
        options.captureContent ??
        process.env["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"]?.trim().toLowerCase() === "true",
    };
  }

  /**
   * True when `context`'s span can be a parent: started by this tracer, read from another
   * process, or below another span. False for a new trace's seed (`TraceContext.create()`).
   */
  #isSpan(context: TraceContext): boolean {
    return context.isRemote || context.spanStack.length > 0 || this.#started.has(context.spanId);
  }

  /** True when this tracer started the span of `context` (it remembers the last 65536). */
  owns(context: TraceContext): boolean {
    return this.#started.has(context.spanId);
  }

  /**
   * Starts the `invoke_agent` span of one agent as a child of `parent` (default: the active
   * context, else a new trace). A context that is not a span (made by `TraceContext.create`,
   * or from headers without a `traceparent`) starts a new trace: the span is its root, with
   * no parent, in the context's trace. Identity fields and baggage of the parent are kept.
   */
  startAgentSpan(agentName: string, parent?: TraceContext, options: AgentSpanOptions = {}): AgentSpan {
    const base = options.ownContext ?? parent ?? this.#contextManager.active() ?? TraceContext.create();
    const attributes = agentSpanAttributes({
      agentName,
      ...(options.executionId === undefined ? {} : { executionId: options.executionId }),
      ...(options.parentExecutionId === undefined ? {} : { parentExecutionId: options.parentExecutionId }),
      ...(options.retryOfExecutionId === undefined ? {} : { retryOfExecutionId: options.retryOfExecutionId }),
      ...(base.threadId === undefined ? {} : { conversationId: base.threadId }),
    });
    if (options.attributes !== undefined) Object.assign(attributes, options.attributes);
    if (base.correlationId !== undefined) attributes[TracehouseAttribute.CorrelationId] = base.correlationId;
    if (base.userId !== undefined) attributes[TracehouseAttribute.UserId] = base.userId;
    const kind = options.kind ?? (options.remoteAgent === true ? OtelSpanKind.CLIENT : OtelSpanKind.INTERNAL);
    const links = (options.links ?? []).map((link): Link => ({
      context: toOtelSpanContext(link.context),
      ...(link.reason === undefined ? {} : { attributes: { [TracehouseAttribute.LinkReason]: link.reason } }),
    }));
    const spanOptions = {
      kind,
      attributes,
      links,
      ...(options.startTime === undefined ? {} : { startTime: options.startTime }),
    };
    const name = options.name ?? agentSpanName(agentName);

    let otelParent: Context;
    let ids: { traceId?: string; spanId?: string } = {};
    let identityBase = base;
    const own = options.ownContext;
    if (own !== undefined && !this.#started.has(own.spanId)) {
      ids = { traceId: own.traceId, spanId: own.spanId };
      const parentSpanId = own.parentSpanId;
      otelParent =
        parentSpanId === undefined
          ? ROOT_CONTEXT
          : trace.setSpanContext(
              ROOT_CONTEXT,
              Object.assign(toOtelSpanContext(own), { spanId: parentSpanId }),
            );
    } else if (!this.#isSpan(base) && base.sampled) {
      // a new trace's root; an unsampled seed stays the parent, so a parent-based sampler drops the trace
      ids = { traceId: base.traceId };
      otelParent = ROOT_CONTEXT;
      identityBase = detached(base);
    } else {
      const parentSpan = options.parentSpan;
      otelParent =
        parentSpan != null && parentSpan.context.spanId === base.spanId
          ? trace.setSpan(toOtelContext(base), parentSpan.span)
          : toOtelContext(base);
    }
    const span = this.#ids.with(ids, () => this.tracer.startSpan(name, spanOptions, otelParent));
    const context = fromSpanContext(span.spanContext(), identityBase);
    this.#started.add(context.spanId);
    return new AgentSpan(span, context, agentName, this.#host, envelopeOf(attributes));
  }

  forceFlush(): Promise<void> {
    return this.provider.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

const ENVELOPE_KEYS: readonly string[] = [
  TracehouseAttribute.ExecutionId,
  TracehouseAttribute.AgentName,
  TracehouseAttribute.CorrelationId,
  TracehouseAttribute.UserId,
  TracehouseAttribute.ThreadId,
];

function envelopeOf(attributes: Attributes): Attributes {
  const envelope: Attributes = {};
  for (const key of ENVELOPE_KEYS) if (attributes[key] !== undefined) envelope[key] = attributes[key];
  return envelope;
}

function toOtelSpanContext(context: TraceContext) {
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    traceFlags: context.traceFlags,
    isRemote: context.isRemote,
  };
}

/**
 * `base`'s identity, baggage and tracestate in a context of another trace, so that a root
 * span made from it gets no ancestors (`fromSpanContext` only stacks spans of one trace).
 */
function detached(base: TraceContext): TraceContext {
  return TraceContext.create({
    sampled: base.sampled,
    ...(base.correlationId === undefined ? {} : { correlationId: base.correlationId }),
    ...(base.userId === undefined ? {} : { userId: base.userId }),
    ...(base.threadId === undefined ? {} : { threadId: base.threadId }),
    baggage: base.baggage,
    tracestate: base.tracestate,
  });
}

/** Creates an {@link AgentTracer}. */
export function createAgentTracer(options: AgentTracerOptions = {}): AgentTracer {
  return new AgentTracer(options);
}
