import {
  AgentEventKind,
  CorrelationRelationship,
  ExecutionLifecycle,
  RecordType,
  SpanKind,
  SpanStatusCode,
} from "@tracehouse/schemas";
import type { EmitFields } from "@tracehouse/producer";
import { errorRecords } from "./error-records.js";
import { executionIdOf, RecordSlot, spanEventId } from "./ids.js";
import { correlation, releasedLinks } from "./links.js";
import type { OtlpEvent, OtlpLink, OtlpSpan, OtlpSpanGroup, TextAttributes } from "./model.js";
import { OtlpStatusCode } from "./model.js";
import { GenAiOperation, LLM_OPERATIONS } from "./operations.js";
import type { Arrival, PendingLink, SpanDirectory } from "./SpanDirectory.js";

/** One record to emit, of any type. */
export type MappedRecord = {
  readonly [T in RecordType]: { readonly type: T; readonly fields: EmitFields<T> };
}[RecordType];

const KINDS: readonly SpanKind[] = [
  SpanKind.Internal,
  SpanKind.Internal,
  SpanKind.Server,
  SpanKind.Client,
  SpanKind.Producer,
  SpanKind.Consumer,
];
const STATUS: readonly SpanStatusCode[] = [SpanStatusCode.Unset, SpanStatusCode.Ok, SpanStatusCode.Error];
/** Message content attributes are kept in the span record only, never copied into events. */
const CONTENT_ATTRIBUTES = /^gen_ai\.(input|output|system)[._]|^gen_ai\.(prompt|completion)/;

const first = (
  attributes: TextAttributes,
  resource: TextAttributes,
  keys: readonly string[],
): string | null => {
  for (const key of keys) {
    const value = attributes[key] ?? resource[key];
    if (value !== undefined && value !== "") return value;
  }
  return null;
};

const numberOf = (value: string | undefined): number | null => {
  if (value === undefined) return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
};

/** The span record's empty events or links (read, never written). */
const NONE: readonly never[] = Object.freeze([]);
const eventOf = (event: OtlpEvent) => ({
  name: event.name,
  time: event.timeUs,
  attributes: event.attributes,
});
const linkOf = (link: OtlpLink) => ({
  trace_id: link.traceId,
  span_id: link.spanId,
  attributes: link.attributes,
});

const durationMs = (span: OtlpSpan): number => (span.endUs - span.startUs) / 1000;

/** The GenAI operation of a span: `gen_ai.operation.name`, else the first word of a span name that has gen_ai attributes. */
export function operationOf(span: OtlpSpan): string | null {
  const named = span.attributes["gen_ai.operation.name"];
  if (named !== undefined && named !== "") return named;
  for (const key in span.attributes) {
    if (key.startsWith("gen_ai.")) return span.name.split(" ", 1)[0] ?? null;
  }
  return null;
}

export interface Identity {
  readonly user_id: string | null;
  readonly thread_id: string | null;
  readonly correlation_id: string | null;
}

const USER_KEYS = ["user.id", "enduser.id", "tracehouse.user_id"] as const;
const THREAD_KEYS = ["gen_ai.conversation.id", "session.id", "tracehouse.thread_id"] as const;
const CORRELATION_KEYS = ["tracehouse.correlation_id"] as const;

function identityOf(span: OtlpSpan, resource: TextAttributes): Identity {
  return {
    user_id: first(span.attributes, resource, USER_KEYS),
    thread_id: first(span.attributes, resource, THREAD_KEYS),
    correlation_id: first(span.attributes, resource, CORRELATION_KEYS),
  };
}

function genAiAttributes(attributes: TextAttributes): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in attributes) {
    if ((key.startsWith("gen_ai.") || key === "error.type") && !CONTENT_ATTRIBUTES.test(key))
      out[key] = attributes[key] as string;
  }
  return out;
}

function metadataOf(group: OtlpSpanGroup): Record<string, string> {
  const metadata: Record<string, string> = { ...group.resource };
  if (group.scope.name !== "") metadata["otel.scope.name"] = group.scope.name;
  if (group.scope.version !== "") metadata["otel.scope.version"] = group.scope.version;
  for (const key in group.scope.attributes)
    metadata[`otel.scope.attributes.${key}`] = group.scope.attributes[key] as string;
  return metadata;
}

const zeroPhases = {
  initialization_ms: 0,
  tool_execution_ms: 0,
  llm_processing_ms: 0,
  websocket_notification_ms: 0,
  total_ms: 0,
} as const;

/**
 * Maps the spans of an export request to records. Every span becomes a span record; GenAI
 * spans also become executions, events, metrics, correlations and errors. The directory
 * learns every span of the request first, so the order inside a request does not matter;
 * a child that arrives before its parent is attached to the parent's execution all the same,
 * since execution ids derive from span ids.
 */
export function mapSpans(groups: readonly OtlpSpanGroup[], directory: SpanDirectory): MappedRecord[][] {
  // what the first pass learns about each span, in request order
  const operations: (string | null)[] = [];
  const arrivals: (Arrival | undefined)[] = [];
  for (const group of groups) {
    for (const span of group.spans) {
      const operation = operationOf(span);
      const agent = operation === GenAiOperation.InvokeAgent;
      const arrival = directory.learn(
        span.traceId,
        span.spanId,
        span.parentSpanId,
        agent ? agentNameOf(span) : null,
        agent,
      );
      operations.push(operation);
      arrivals.push(arrival.pending.length > 0 || arrival.referenced ? arrival : undefined);
    }
  }
  const out: MappedRecord[][] = [];
  let index = 0;
  for (const group of groups) {
    const metadata = metadataOf(group);
    for (const span of group.spans) {
      out.push(
        mapSpan(span, operations[index] ?? null, group.resource, metadata, directory, arrivals[index]),
      );
      index += 1;
    }
  }
  return out;
}

function agentNameOf(span: OtlpSpan): string {
  return span.attributes["gen_ai.agent.name"] || span.name.replace(/^invoke_agent\s*/, "") || "agent";
}

/** The records of one span, the span record first. */
function mapSpan(
  span: OtlpSpan,
  operation: string | null,
  resource: TextAttributes,
  metadata: Record<string, string>,
  directory: SpanDirectory,
  arrival: Arrival | undefined,
): MappedRecord[] {
  const identity = identityOf(span, resource);
  const agent = operation === GenAiOperation.InvokeAgent;
  const parent = directory.resolve(span.traceId, span.parentSpanId);
  const executionId = agent ? executionIdOf(span.traceId, span.spanId) : parent.executionId;
  const agentName = agent
    ? agentNameOf(span)
    : (parent.agentName ?? span.attributes["gen_ai.agent.name"] ?? null);
  // written out, not spread: spreading into an object literal this large is far slower in V8
  const records: MappedRecord[] = [
    {
      type: RecordType.Span,
      fields: {
        event_id: spanEventId(span.traceId, span.spanId, RecordSlot.Span, span.endUs),
        event_time: span.endUs,
        trace_id: span.traceId,
        span_id: span.spanId,
        parent_span_id: span.parentSpanId,
        correlation_id: identity.correlation_id,
        user_id: identity.user_id,
        thread_id: identity.thread_id,
        execution_id: executionId,
        agent_name: agentName,
        metadata,
        name: span.name,
        kind: KINDS[span.kind] ?? SpanKind.Internal,
        start_time: span.startUs,
        end_time: span.endUs,
        status_code: STATUS[span.statusCode] ?? SpanStatusCode.Unset,
        status_message: span.statusMessage,
        attributes: span.attributes,
        events: span.events.length === 0 ? NONE : span.events.map(eventOf),
        links: span.links.length === 0 ? NONE : span.links.map(linkOf),
      },
    },
  ];
  if (arrival !== undefined)
    records.push(...releasedLinks(span, agent, agentName, identity, arrival, directory));
  if (operation === null) return records;
  if (!agent && !parent.known && parent.spanId !== null) directory.reference(span.traceId, parent.spanId);
  const envelope = {
    trace_id: span.traceId,
    span_id: span.spanId,
    parent_span_id: span.parentSpanId,
    ...identity,
    execution_id: executionId,
    agent_name: agentName,
  };
  const failed = span.statusCode === OtlpStatusCode.Error;
  const errorText = span.statusMessage ?? span.attributes["error.type"] ?? null;
  const duration = durationMs(span);
  const attributes = genAiAttributes(span.attributes);

  if (agent) {
    records.push(
      {
        type: RecordType.Execution,
        fields: Object.assign({}, envelope, {
          event_id: spanEventId(span.traceId, span.spanId, RecordSlot.ExecutionStarted, span.startUs),
          event_time: span.startUs,
          lifecycle: ExecutionLifecycle.Started,
          status: "running",
          parent_execution_id: parent.executionId,
          metadata: attributes,
        }),
      },
      {
        type: RecordType.Execution,
        fields: Object.assign({}, envelope, {
          event_id: spanEventId(span.traceId, span.spanId, RecordSlot.ExecutionEnded, span.endUs),
          event_time: span.endUs,
          lifecycle: failed ? ExecutionLifecycle.Failed : ExecutionLifecycle.Completed,
          status: failed ? "failed" : "completed",
          parent_execution_id: parent.executionId,
          error_message: failed ? (errorText ?? "failed") : null,
          duration_ms: duration,
          metadata: attributes,
        }),
      },
      {
        type: RecordType.Metrics,
        fields: Object.assign({}, envelope, {
          event_id: spanEventId(span.traceId, span.spanId, RecordSlot.Metrics, span.endUs),
          event_time: span.endUs,
          ...zeroPhases,
          total_ms: duration,
        }),
      },
    );
    if (parent.executionId !== null && parent.spanId !== null) {
      const subagent: PendingLink = {
        childExecutionId: executionId as string,
        childSpanId: span.spanId,
        childAgentName: agentName,
        startUs: span.startUs,
        relationship: CorrelationRelationship.Subagent,
      };
      if (parent.known)
        records.push(correlation(span.traceId, parent.spanId, parent.agentName, subagent, identity));
      else directory.defer(span.traceId, parent.spanId, subagent);
    }
  } else if (LLM_OPERATIONS.has(operation)) {
    const model =
      span.attributes["gen_ai.request.model"] || span.attributes["gen_ai.response.model"] || operation;
    const ttftSeconds = numberOf(span.attributes["gen_ai.response.time_to_first_chunk"]);
    const ttftMs = ttftSeconds === null ? null : ttftSeconds * 1000;
    const status = failed ? "error" : "ok";
    records.push({
      type: RecordType.Event,
      fields: Object.assign({}, envelope, {
        event_id: spanEventId(span.traceId, span.spanId, RecordSlot.CallStart, span.startUs),
        event_time: span.startUs,
        event_kind: AgentEventKind.LlmCallStart,
        name: model,
        attributes,
      }),
    });
    if (ttftMs !== null) {
      const at = span.startUs + Math.round(ttftMs * 1000);
      records.push({
        type: RecordType.Event,
        fields: Object.assign({}, envelope, {
          event_id: spanEventId(span.traceId, span.spanId, RecordSlot.FirstToken, at),
          event_time: at,
          event_kind: AgentEventKind.LlmFirstToken,
          name: model,
          duration_ms: ttftMs,
        }),
      });
    }
    records.push(
      {
        type: RecordType.Event,
        fields: Object.assign({}, envelope, {
          event_id: spanEventId(span.traceId, span.spanId, RecordSlot.CallEnd, span.endUs),
          event_time: span.endUs,
          event_kind: AgentEventKind.LlmCallEnd,
          name: model,
          status,
          duration_ms: duration,
          attributes,
        }),
      },
      {
        type: RecordType.Metrics,
        fields: Object.assign({}, envelope, {
          event_id: spanEventId(span.traceId, span.spanId, RecordSlot.Metrics, span.endUs),
          event_time: span.endUs,
          ...zeroPhases,
          llm_processing_ms: duration,
          time_to_first_token_ms: ttftMs,
          prompt_tokens: numberOf(
            span.attributes["gen_ai.usage.input_tokens"] ?? span.attributes["gen_ai.usage.prompt_tokens"],
          ),
          completion_tokens: numberOf(
            span.attributes["gen_ai.usage.output_tokens"] ??
              span.attributes["gen_ai.usage.completion_tokens"],
          ),
        }),
      },
    );
  } else if (operation === GenAiOperation.ExecuteTool) {
    const tool = span.attributes["gen_ai.tool.name"] || span.name.replace(/^execute_tool\s*/, "") || "tool";
    records.push(
      {
        type: RecordType.Event,
        fields: Object.assign({}, envelope, {
          event_id: spanEventId(span.traceId, span.spanId, RecordSlot.CallStart, span.startUs),
          event_time: span.startUs,
          event_kind: AgentEventKind.ToolCallStart,
          name: tool,
          attributes,
        }),
      },
      {
        type: RecordType.Event,
        fields: Object.assign({}, envelope, {
          event_id: spanEventId(span.traceId, span.spanId, RecordSlot.CallEnd, span.endUs),
          event_time: span.endUs,
          event_kind: AgentEventKind.ToolCallEnd,
          name: tool,
          status: failed ? "error" : "ok",
          duration_ms: duration,
          attributes,
        }),
      },
      {
        type: RecordType.Metrics,
        fields: Object.assign({}, envelope, {
          event_id: spanEventId(span.traceId, span.spanId, RecordSlot.Metrics, span.endUs),
          event_time: span.endUs,
          ...zeroPhases,
          tool_execution_ms: duration,
        }),
      },
    );
  }
  records.push(...errorRecords(span, envelope, operation, agent, failed, errorText));
  return records;
}
