import { SpanKind as OtelSpanKind, SpanStatusCode as OtelStatusCode } from "@opentelemetry/api";
import type { AttributeValue, Attributes, HrTime } from "@opentelemetry/api";
import {
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_CONVERSATION_ID,
} from "@opentelemetry/semantic-conventions/incubating";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { fromSpanContext, TraceContext } from "@tracehouse/context";
import { SpanKind, SpanStatusCode } from "@tracehouse/schemas";
import type { StringMap, RecordType } from "@tracehouse/schemas";
import { EmitResult } from "./emit-result.js";
import { TracehouseAttribute } from "./genai.js";
import type { EmitFields, Producer } from "./Producer.js";

type ExportResult = Parameters<Parameters<SpanExporter["export"]>[1]>[0];
const SUCCESS = 0 as ExportResult["code"];
const FAILED = 1 as ExportResult["code"];

/** Span attributes that carry tracehouse envelope fields (set by AgentTracer). */
export const SpanAttribute = {
  AgentName: TracehouseAttribute.AgentName,
  ExecutionId: TracehouseAttribute.ExecutionId,
  CorrelationId: TracehouseAttribute.CorrelationId,
  UserId: TracehouseAttribute.UserId,
  ThreadId: TracehouseAttribute.ThreadId,
} as const;
export type SpanAttribute = (typeof SpanAttribute)[keyof typeof SpanAttribute];

const KINDS: Readonly<Record<number, SpanKind>> = {
  [OtelSpanKind.INTERNAL]: SpanKind.Internal,
  [OtelSpanKind.SERVER]: SpanKind.Server,
  [OtelSpanKind.CLIENT]: SpanKind.Client,
  [OtelSpanKind.PRODUCER]: SpanKind.Producer,
  [OtelSpanKind.CONSUMER]: SpanKind.Consumer,
};

const STATUS_CODES: Readonly<Record<number, SpanStatusCode>> = {
  [OtelStatusCode.UNSET]: SpanStatusCode.Unset,
  [OtelStatusCode.OK]: SpanStatusCode.Ok,
  [OtelStatusCode.ERROR]: SpanStatusCode.Error,
};

function micros(time: HrTime): number {
  return time[0] * 1_000_000 + Math.floor(time[1] / 1000);
}

function attributeText(value: AttributeValue): string {
  return typeof value === "string" ? value : Array.isArray(value) ? JSON.stringify(value) : String(value);
}

function stringMap(attributes: Attributes | undefined): StringMap {
  const out: Record<string, string> = {};
  if (attributes === undefined) return out;
  for (const key of Object.keys(attributes)) {
    const value = attributes[key];
    if (value !== undefined && value !== null) out[key] = attributeText(value);
  }
  return out;
}

function stringAttribute(attributes: Attributes, key: string): string | null {
  const value = attributes[key];
  return typeof value === "string" && value.length > 0 ? value : null;
}

/** The span record of a finished OpenTelemetry span. */
export function spanRecordFields(span: ReadableSpan): EmitFields<typeof RecordType.Span> {
  const context = span.spanContext();
  const attributes = span.attributes;
  const metadata: Record<string, string> = {};
  const serviceName = span.resource?.attributes["service.name"];
  if (typeof serviceName === "string") metadata["service.name"] = serviceName;
  if (span.instrumentationScope?.name) metadata["otel.scope.name"] = span.instrumentationScope.name;
  return {
    event_time: micros(span.endTime),
    trace_id: context.traceId,
    span_id: context.spanId,
    parent_span_id: span.parentSpanContext?.spanId ?? null,
    correlation_id: stringAttribute(attributes, SpanAttribute.CorrelationId),
    user_id: stringAttribute(attributes, SpanAttribute.UserId),
    thread_id:
      stringAttribute(attributes, SpanAttribute.ThreadId) ??
      stringAttribute(attributes, ATTR_GEN_AI_CONVERSATION_ID),
    execution_id: stringAttribute(attributes, SpanAttribute.ExecutionId),
    agent_name:
      stringAttribute(attributes, SpanAttribute.AgentName) ??
      stringAttribute(attributes, ATTR_GEN_AI_AGENT_NAME),
    metadata,
    name: span.name,
    kind: KINDS[span.kind] ?? SpanKind.Internal,
    start_time: micros(span.startTime),
    end_time: micros(span.endTime),
    status_code: STATUS_CODES[span.status.code] ?? SpanStatusCode.Unset,
    status_message: span.status.message ?? null,
    attributes: stringMap(attributes),
    events: span.events.map((event) => ({
      name: event.name,
      time: micros(event.time),
      attributes: stringMap(event.attributes),
    })),
    links: span.links.map((link) => ({
      trace_id: link.context.traceId,
      span_id: link.context.spanId,
      attributes: stringMap(link.attributes),
    })),
  };
}

/**
 * An OpenTelemetry SpanExporter that publishes finished spans as tracehouse span records
 * through a producer (same batching, spool and sampling as every other record). It does
 * not own the producer: `shutdown()` flushes it but leaves it open.
 */
export class TracehouseSpanExporter implements SpanExporter {
  readonly #producer: Producer;
  #shutdown = false;

  constructor(producer: Producer) {
    this.#producer = producer;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.#shutdown) {
      resultCallback({ code: FAILED, error: new Error("TracehouseSpanExporter is shut down") });
      return;
    }
    let failed: unknown = null;
    for (const span of spans) {
      try {
        const fields = spanRecordFields(span);
        const identity = TraceContext.create({
          ...(fields.correlation_id ? { correlationId: fields.correlation_id } : {}),
          ...(fields.user_id ? { userId: fields.user_id } : {}),
          ...(fields.thread_id ? { threadId: fields.thread_id } : {}),
        });
        const result = this.#producer.emitSpan(fields, fromSpanContext(span.spanContext(), identity));
        if (result === EmitResult.Dropped)
          failed ??= new Error(`span ${span.name} was dropped by the producer`);
      } catch (error) {
        failed ??= error;
      }
    }
    resultCallback(
      failed === null
        ? { code: SUCCESS }
        : { code: FAILED, error: failed instanceof Error ? failed : new Error(String(failed)) },
    );
  }

  async forceFlush(): Promise<void> {
    await this.#producer.flush();
  }

  async shutdown(): Promise<void> {
    this.#shutdown = true;
    try {
      await this.#producer.flush();
    } catch {
      // unsent spans stay in the producer's queue or spool
    }
  }
}
