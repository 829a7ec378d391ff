import { SpanKind as OtelSpanKind, SpanStatusCode as OtelStatusCode, trace } from "@opentelemetry/api";
import type { Attributes, AttributeValue, Span, Tracer } from "@opentelemetry/api";
import { toOtelContext } from "@tracehouse/context";
import type { ContextManager, TraceContext } from "@tracehouse/context";
import { SpanStatusCode } from "@tracehouse/schemas";
import type { TimingBreakdown } from "./ExecutionTimingCollector.js";
import {
  errorAttributes,
  llmRequestAttributes,
  llmResponseAttributes,
  llmSpanName,
  timingAttributes,
  toolCallAttributes,
  toolResultAttributes,
  toolSpanName,
  TracehouseAttribute,
  usageAttributes,
} from "./genai.js";
import type { LlmRequestFields, LlmResponseFields, TokenUsage, ToolCallFields } from "./genai.js";

function otelStatus(code: SpanStatusCode): OtelStatusCode {
  return code === SpanStatusCode.Ok
    ? OtelStatusCode.OK
    : code === SpanStatusCode.Error
      ? OtelStatusCode.ERROR
      : OtelStatusCode.UNSET;
}

/** Records `error` on `span`: an exception event, `error.type` and status ERROR. */
function failSpan(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setAttributes(errorAttributes(error));
  span.setStatus({
    code: OtelStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/** What an agent span needs from its tracer; not public. */
export interface AgentSpanHost {
  readonly tracer: Tracer;
  readonly contextManager: ContextManager;
  readonly captureContent: boolean;
}

/** How an LLM call ended: the response, and the error when it failed. */
export interface LlmSpanEnd extends LlmResponseFields {
  readonly error?: unknown;
}

/** An LLM call's CLIENT span (`{operation} {model}`). */
export class LlmSpan {
  readonly span: Span;
  readonly #captureContent: boolean;
  readonly #startedAt = performance.now();
  #firstChunkMs: number | null = null;

  constructor(span: Span, captureContent: boolean) {
    this.span = span;
    this.#captureContent = captureContent;
  }

  /** Marks the first chunk of a streamed response (the first call counts). */
  firstChunk(): void {
    this.#firstChunkMs ??= performance.now() - this.#startedAt;
  }

  end(fields: LlmSpanEnd = {}): void {
    const { error, ...response } = fields;
    this.span.setAttributes(
      llmResponseAttributes(
        Object.assign(response, { timeToFirstChunkMs: response.timeToFirstChunkMs ?? this.#firstChunkMs }),
        this.#captureContent,
      ),
    );
    if (error !== undefined) failSpan(this.span, error);
    this.span.end();
  }
}

/** How a tool call ended: its result (recorded only with content capture), or its error. */
export interface ToolSpanEnd {
  readonly result?: unknown;
  readonly error?: unknown;
}

/** A tool call's `execute_tool {name}` span. */
export class ToolSpan {
  readonly span: Span;
  readonly #captureContent: boolean;

  constructor(span: Span, captureContent: boolean) {
    this.span = span;
    this.#captureContent = captureContent;
  }

  end(fields: ToolSpanEnd = {}): void {
    this.span.setAttributes(toolResultAttributes(fields.result, this.#captureContent));
    if (fields.error !== undefined) failSpan(this.span, fields.error);
    this.span.end();
  }
}

/** How an execution ended, for its `invoke_agent` span. */
export interface AgentSpanEnd {
  readonly timing?: TimingBreakdown;
  readonly usage?: TokenUsage;
  readonly status?: string;
  readonly error?: unknown;
}

/**
 * One agent's `invoke_agent` span. Its `context` has the span's ids: records emitted with it
 * carry the OpenTelemetry span id as `span_id`, and its children are the span's children.
 */
export class AgentSpan {
  readonly span: Span;
  readonly context: TraceContext;
  readonly agentName: string;
  readonly #host: AgentSpanHost;
  /** The tracehouse envelope attributes (execution, identity) its LLM and tool spans repeat. */
  readonly #envelope: Attributes;

  constructor(
    span: Span,
    context: TraceContext,
    agentName: string,
    host: AgentSpanHost,
    envelope: Attributes = {},
  ) {
    this.span = span;
    this.context = context;
    this.agentName = agentName;
    this.#host = host;
    this.#envelope = envelope;
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

  /** Records the exception as a span event (type, message, stacktrace) and sets `error.type`. */
  recordException(error: unknown): this {
    this.span.recordException(error instanceof Error ? error : String(error));
    this.span.setAttributes(errorAttributes(error));
    return this;
  }

  setStatus(code: SpanStatusCode, message?: string): this {
    const otelCode = otelStatus(code);
    this.span.setStatus(message === undefined ? { code: otelCode } : { code: otelCode, message });
    return this;
  }

  #child(name: string, kind: OtelSpanKind, attributes: Attributes): Span {
    const parent = trace.setSpan(toOtelContext(this.context), this.span);
    return this.#host.tracer.startSpan(
      name,
      { kind, attributes: Object.assign({}, this.#envelope, attributes) },
      parent,
    );
  }

  /** The conversation id its LLM and tool calls carry: the context's thread, when it has one. */
  #conversation(): { conversationId?: string } {
    return this.context.threadId === undefined ? {} : { conversationId: this.context.threadId };
  }

  /** Starts an LLM call's CLIENT span, child of this span. */
  startLlmCall(fields: LlmRequestFields): LlmSpan {
    const request: LlmRequestFields = Object.assign({}, fields, this.#conversation(), {
      agentName: this.agentName,
    });
    const span = this.#child(
      llmSpanName(request),
      OtelSpanKind.CLIENT,
      llmRequestAttributes(request, this.#host.captureContent),
    );
    return new LlmSpan(span, this.#host.captureContent);
  }

  /** Starts a tool call's INTERNAL `execute_tool` span, child of this span. */
  startToolCall(fields: ToolCallFields): ToolSpan {
    const call: ToolCallFields = Object.assign({}, fields, this.#conversation());
    const span = this.#child(
      toolSpanName(fields.name),
      OtelSpanKind.INTERNAL,
      toolCallAttributes(call, this.#host.captureContent),
    );
    return new ToolSpan(span, this.#host.captureContent);
  }

  /** Ends the execution's span with its phase timings, token totals and outcome. */
  finish(fields: AgentSpanEnd = {}): void {
    if (fields.timing !== undefined) this.span.setAttributes(timingAttributes(fields.timing));
    this.span.setAttributes(usageAttributes(fields.usage));
    if (fields.status !== undefined) this.span.setAttribute(TracehouseAttribute.Status, fields.status);
    if (fields.error !== undefined) failSpan(this.span, fields.error);
    else this.span.setStatus({ code: OtelStatusCode.OK });
    this.span.end();
  }

  /** Runs `fn` with this span's context active. */
  run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
    return this.#host.contextManager.run(this.context, fn, ...args);
  }

  end(): void {
    this.span.end();
  }
}
