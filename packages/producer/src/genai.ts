/**
 * The mapping from tracehouse's domain (executions, LLM calls, tool calls, phase timings) to
 * the OpenTelemetry GenAI semantic conventions, as published in semantic-conventions v1.41.0
 * (the GenAI conventions' last release in that repository; status Development). Attribute
 * names come from `@opentelemetry/semantic-conventions/incubating`; what the conventions do
 * not cover lives under the `tracehouse.*` namespace ({@link TracehouseAttribute}).
 */
import type { Attributes } from "@opentelemetry/api";
import { ATTR_ERROR_TYPE } from "@opentelemetry/semantic-conventions";
import {
  ATTR_GEN_AI_AGENT_ID,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_TOOL_TYPE,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
  GEN_AI_OPERATION_NAME_VALUE_GENERATE_CONTENT,
  GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT,
  GEN_AI_OPERATION_NAME_VALUE_TEXT_COMPLETION,
} from "@opentelemetry/semantic-conventions/incubating";
import type { TimingBreakdown } from "./ExecutionTimingCollector.js";

/** The GenAI semantic-conventions release these spans follow. */
export const GENAI_SEMCONV_VERSION = "1.41.0";

/** `gen_ai.operation.name` values tracehouse emits. */
export const GenAiOperation = {
  Chat: GEN_AI_OPERATION_NAME_VALUE_CHAT,
  TextCompletion: GEN_AI_OPERATION_NAME_VALUE_TEXT_COMPLETION,
  GenerateContent: GEN_AI_OPERATION_NAME_VALUE_GENERATE_CONTENT,
  Embeddings: GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS,
  InvokeAgent: GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT,
  ExecuteTool: GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
} as const;
export type GenAiOperation = (typeof GenAiOperation)[keyof typeof GenAiOperation];

/**
 * What the GenAI conventions do not cover: tracehouse's envelope fields and the execution's
 * phase timings (milliseconds) on its `invoke_agent` span.
 */
export const TracehouseAttribute = {
  ExecutionId: "tracehouse.execution_id",
  ParentExecutionId: "tracehouse.parent_execution_id",
  RetryOfExecutionId: "tracehouse.retry_of_execution_id",
  CorrelationId: "tracehouse.correlation_id",
  UserId: "tracehouse.user_id",
  ThreadId: "tracehouse.thread_id",
  AgentName: "tracehouse.agent_name",
  Status: "tracehouse.status",
  InitializationMs: "tracehouse.phase.initialization_ms",
  ToolExecutionMs: "tracehouse.phase.tool_execution_ms",
  LlmProcessingMs: "tracehouse.phase.llm_processing_ms",
  WebSocketNotificationMs: "tracehouse.phase.websocket_notification_ms",
  QueueWaitMs: "tracehouse.phase.queue_wait_ms",
  DatabaseQueryMs: "tracehouse.phase.database_query_ms",
  ExternalApiMs: "tracehouse.phase.external_api_ms",
  WebSocketLatencyMs: "tracehouse.websocket.latency_ms",
  TimeToFirstTokenMs: "tracehouse.time_to_first_token_ms",
  /** On a span link: why the linked trace caused this one (`retry_of`, `queued_from`, …). */
  LinkReason: "tracehouse.link.reason",
} as const;
export type TracehouseAttribute = (typeof TracehouseAttribute)[keyof typeof TracehouseAttribute];

/** Token counts of one LLM call or execution; the cache and reasoning counts only when known. */
export interface TokenUsage {
  readonly promptTokens?: number;
  readonly completionTokens?: number;
  /** Input tokens served from the provider's cache. */
  readonly cacheReadTokens?: number;
  /** Input tokens written to the provider's cache. */
  readonly cacheCreationTokens?: number;
  /** Output tokens spent on reasoning. */
  readonly reasoningTokens?: number;
}

export interface AgentSpanFields {
  readonly agentName: string;
  readonly executionId?: string;
  readonly parentExecutionId?: string;
  readonly retryOfExecutionId?: string;
  readonly conversationId?: string;
}

/** Span name of an execution: `invoke_agent {gen_ai.agent.name}`. */
export function agentSpanName(agentName: string): string {
  return `${GenAiOperation.InvokeAgent} ${agentName}`;
}

/** Attributes of an execution's `invoke_agent` span when it starts. */
export function agentSpanAttributes(fields: AgentSpanFields): Attributes {
  const attributes: Attributes = {
    [ATTR_GEN_AI_OPERATION_NAME]: GenAiOperation.InvokeAgent,
    [ATTR_GEN_AI_AGENT_NAME]: fields.agentName,
    [TracehouseAttribute.AgentName]: fields.agentName,
  };
  if (fields.executionId !== undefined) {
    attributes[ATTR_GEN_AI_AGENT_ID] = fields.executionId;
    attributes[TracehouseAttribute.ExecutionId] = fields.executionId;
  }
  if (fields.parentExecutionId !== undefined)
    attributes[TracehouseAttribute.ParentExecutionId] = fields.parentExecutionId;
  if (fields.retryOfExecutionId !== undefined)
    attributes[TracehouseAttribute.RetryOfExecutionId] = fields.retryOfExecutionId;
  if (fields.conversationId !== undefined) {
    attributes[ATTR_GEN_AI_CONVERSATION_ID] = fields.conversationId;
    attributes[TracehouseAttribute.ThreadId] = fields.conversationId;
  }
  return attributes;
}

/** Token counts as `gen_ai.usage.*`; counts that are not known are left out. */
export function usageAttributes(usage: TokenUsage | undefined): Attributes {
  const attributes: Attributes = {};
  if (usage === undefined) return attributes;
  const set = (key: string, value: number | undefined): void => {
    if (value !== undefined && Number.isFinite(value) && value >= 0) attributes[key] = value;
  };
  set(ATTR_GEN_AI_USAGE_INPUT_TOKENS, usage.promptTokens);
  set(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, usage.completionTokens);
  set(ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, usage.cacheReadTokens);
  set(ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, usage.cacheCreationTokens);
  set(ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, usage.reasoningTokens);
  return attributes;
}

/** The phase timings of an execution, for its span's end. */
export function timingAttributes(breakdown: TimingBreakdown): Attributes {
  const attributes: Attributes = {
    [TracehouseAttribute.InitializationMs]: breakdown.initializationMs,
    [TracehouseAttribute.ToolExecutionMs]: breakdown.toolExecutionMs,
    [TracehouseAttribute.LlmProcessingMs]: breakdown.llmProcessingMs,
    [TracehouseAttribute.WebSocketNotificationMs]: breakdown.websocketNotificationMs,
  };
  const optional: [string, number | null][] = [
    [TracehouseAttribute.QueueWaitMs, breakdown.queueWaitMs],
    [TracehouseAttribute.DatabaseQueryMs, breakdown.databaseQueryMs],
    [TracehouseAttribute.ExternalApiMs, breakdown.externalApiMs],
    [TracehouseAttribute.WebSocketLatencyMs, breakdown.websocketLatencyMs],
    [TracehouseAttribute.TimeToFirstTokenMs, breakdown.timeToFirstTokenMs],
  ];
  for (const [key, value] of optional) if (value !== null) attributes[key] = value;
  return attributes;
}

export interface LlmRequestFields {
  /** Default: `chat`. */
  readonly operation?: string;
  readonly model: string;
  /** `gen_ai.provider.name`, e.g. `openai`, `anthropic`, `aws.bedrock`. Default: none. */
  readonly provider?: string;
  readonly conversationId?: string;
  readonly agentName?: string;
  /** Chat history sent, recorded only when content capture is on. */
  readonly inputMessages?: unknown;
}

/** Span name of an LLM call: `{gen_ai.operation.name} {gen_ai.request.model}`. */
export function llmSpanName(fields: LlmRequestFields): string {
  return `${fields.operation ?? GenAiOperation.Chat} ${fields.model}`;
}

export function llmRequestAttributes(fields: LlmRequestFields, captureContent: boolean): Attributes {
  const attributes: Attributes = {
    [ATTR_GEN_AI_OPERATION_NAME]: fields.operation ?? GenAiOperation.Chat,
    [ATTR_GEN_AI_REQUEST_MODEL]: fields.model,
  };
  if (fields.provider !== undefined) attributes[ATTR_GEN_AI_PROVIDER_NAME] = fields.provider;
  if (fields.conversationId !== undefined) attributes[ATTR_GEN_AI_CONVERSATION_ID] = fields.conversationId;
  if (fields.agentName !== undefined) attributes[ATTR_GEN_AI_AGENT_NAME] = fields.agentName;
  if (captureContent && fields.inputMessages !== undefined)
    attributes[ATTR_GEN_AI_INPUT_MESSAGES] = contentText(fields.inputMessages);
  return attributes;
}

export interface LlmResponseFields {
  readonly responseModel?: string;
  readonly responseId?: string;
  readonly finishReasons?: readonly string[];
  readonly usage?: TokenUsage;
  /** Milliseconds from the request to the first chunk of a streamed response. */
  readonly timeToFirstChunkMs?: number | null;
  /** Messages received, recorded only when content capture is on. */
  readonly outputMessages?: unknown;
}

export function llmResponseAttributes(fields: LlmResponseFields, captureContent: boolean): Attributes {
  const attributes: Attributes = usageAttributes(fields.usage);
  if (fields.responseModel !== undefined) attributes[ATTR_GEN_AI_RESPONSE_MODEL] = fields.responseModel;
  if (fields.responseId !== undefined) attributes[ATTR_GEN_AI_RESPONSE_ID] = fields.responseId;
  if (fields.finishReasons !== undefined && fields.finishReasons.length > 0)
    attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = [...fields.finishReasons];
  const ttfc = fields.timeToFirstChunkMs;
  if (ttfc !== undefined && ttfc !== null && Number.isFinite(ttfc))
    attributes[ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = ttfc / 1000;
  if (captureContent) {
    if (fields.outputMessages !== undefined)
      attributes[ATTR_GEN_AI_OUTPUT_MESSAGES] = contentText(fields.outputMessages);
  }
  return attributes;
}

export interface ToolCallFields {
  readonly name: string;
  readonly callId?: string;
  /** `function`, `extension` or `datastore`. Default: none. */
  readonly type?: string;
  readonly conversationId?: string;
  /** Recorded only when content capture is on. */
  readonly arguments?: unknown;
}

/** Span name of a tool call: `execute_tool {gen_ai.tool.name}`. */
export function toolSpanName(name: string): string {
  return `${GenAiOperation.ExecuteTool} ${name}`;
}

export function toolCallAttributes(fields: ToolCallFields, captureContent: boolean): Attributes {
  const attributes: Attributes = {
    [ATTR_GEN_AI_OPERATION_NAME]: GenAiOperation.ExecuteTool,
    [ATTR_GEN_AI_TOOL_NAME]: fields.name,
  };
  if (fields.callId !== undefined) attributes[ATTR_GEN_AI_TOOL_CALL_ID] = fields.callId;
  if (fields.type !== undefined) attributes[ATTR_GEN_AI_TOOL_TYPE] = fields.type;
  if (fields.conversationId !== undefined) attributes[ATTR_GEN_AI_CONVERSATION_ID] = fields.conversationId;
  if (captureContent && fields.arguments !== undefined)
    attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = contentText(fields.arguments);
  return attributes;
}

/** The tool's result, recorded only when content capture is on. */
export function toolResultAttributes(result: unknown, captureContent: boolean): Attributes {
  return captureContent && result !== undefined
    ? { [ATTR_GEN_AI_TOOL_CALL_RESULT]: contentText(result) }
    : {};
}

/** `error.type`: the error's class name, `_OTHER` when there is none. */
export function errorType(error: unknown): string {
  if (error instanceof Error) return error.name || error.constructor.name || "_OTHER";
  return "_OTHER";
}

export function errorAttributes(error: unknown): Attributes {
  return { [ATTR_ERROR_TYPE]: errorType(error) };
}

function contentText(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
