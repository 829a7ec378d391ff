import type { CorrelationRelationship, ErrorSeverity } from "@tracehouse/schemas";
import type { AgentSpanLink } from "./AgentTracer.js";
import type { LlmResponseFields, TokenUsage } from "./genai.js";

export type { TokenUsage } from "./genai.js";

export interface StartExecutionOptions {
  readonly agentName: string;
  /** Summarised into `input_summary`. Default: none. */
  readonly input?: unknown;
  /** Copied into every record of the execution. Default: none. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Default: a new UUIDv7. */
  readonly executionId?: string;
  /** The parent execution, when it is not started through this tracker (another process). Default: none. */
  readonly parentExecutionId?: string;
  /** Status of the STARTED record. Default: `"running"`. */
  readonly status?: string;
  /** The execution this one retries (`retry_of_execution_id`). Default: none. */
  readonly retryOfExecutionId?: string;
  /** Traces that caused this execution (the retried one, the request that queued it): span links. Default: none. */
  readonly links?: readonly AgentSpanLink[];
  /** The agent runs in another process: its span is a CLIENT `invoke_agent`. Default: false. */
  readonly remoteAgent?: boolean;
}

export interface ChildExecutionOptions extends Omit<
  StartExecutionOptions,
  "agentName" | "parentExecutionId"
> {
  /** Default: `SUBAGENT`. */
  readonly relationship?: CorrelationRelationship;
}

export interface EventDetails {
  readonly status?: string;
  readonly durationMs?: number;
  readonly payloadBytes?: number;
  /** Payload metadata. */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** Values for the performance-metrics record; given ones replace what the timing collector measured. */
export interface MetricsInput extends TokenUsage {
  readonly initializationMs?: number;
  readonly toolExecutionMs?: number;
  readonly llmProcessingMs?: number;
  readonly websocketNotificationMs?: number;
  readonly totalMs?: number;
  readonly timeToFirstTokenMs?: number;
  readonly queueWaitMs?: number;
  readonly databaseQueryMs?: number;
  readonly externalApiMs?: number;
  readonly websocketLatencyMs?: number;
}

export interface CompleteOptions {
  readonly usage?: TokenUsage;
  /** Default: `"completed"`. */
  readonly status?: string;
}

export interface FailOptions {
  /** The phase the execution failed in, e.g. `tool_execution`. Default: none. */
  readonly phase?: string;
  /** Default: `ERROR`. */
  readonly severity?: ErrorSeverity;
  /** Default: `"failed"`. */
  readonly status?: string;
}

export interface RecordErrorOptions {
  readonly phase?: string;
  /** Default: `WARNING`. */
  readonly severity?: ErrorSeverity;
}

/** Span fields of a tool call (`execute_tool` span). */
export interface ToolCallOptions {
  /** `gen_ai.tool.call.id`. Default: none. */
  readonly callId?: string;
  /** `function`, `extension` or `datastore`. Default: none. */
  readonly type?: string;
  /** Recorded on the span only when the tracer captures content. */
  readonly arguments?: unknown;
}

/** A tool call in progress: `end()` records TOOL_CALL_END with its duration. */
export interface ToolCall {
  end(
    details?: Omit<EventDetails, "durationMs"> & { readonly result?: unknown; readonly error?: unknown },
  ): boolean;
}

/** Span fields of an LLM call (`{operation} {model}` CLIENT span). */
export interface LlmCallOptions {
  /** `chat`, `text_completion`, `embeddings`, `generate_content`. Default: `chat`. */
  readonly operation?: string;
  /** `gen_ai.provider.name`, e.g. `openai`. Default: none. */
  readonly provider?: string;
  /** Recorded on the span only when the tracer captures content. */
  readonly inputMessages?: unknown;
}

/** How an LLM call ended. */
export type LlmCallEnd = Omit<EventDetails, "durationMs"> &
  Omit<LlmResponseFields, "timeToFirstChunkMs"> & { readonly error?: unknown };

/** An LLM call in progress. */
export interface LlmCall {
  /** Records LLM_FIRST_TOKEN and the time to first token (first call only). */
  firstToken(): boolean;
  end(details?: LlmCallEnd): boolean;
}
