// first: kafkajs must find the linear grouping, the direct record encoder and produce request in place when it loads
import "./internal/kafkajs-grouping.js";
import "./internal/kafkajs-record.js";
import "./internal/kafkajs-produce.js";
export { createProducer, Producer } from "./Producer.js";
export type { EmitFields, ContextFieldKey, TimeoutOptions } from "./Producer.js";
export { resolveProducerConfig, Compression, BackpressurePolicy, FsyncPolicy } from "./config.js";
export type {
  ProducerOptions,
  ProducerConfig,
  SpoolOptions,
  SpoolConfig,
  SamplingOptions,
  SamplingConfig,
} from "./config.js";
export { EmitResult, isAccepted } from "./emit-result.js";
export { ensureTopics, verifyTopics, TopicStatus } from "./topics.js";
export type { TopicsOptions, TopicsReport, TopicResult, TopicMismatch, TopicsTarget } from "./topics.js";
export { stderrLogger } from "./stderr-logger.js";
export { DropReason, ProducerState } from "./stats.js";
export type { ProducerStats, SendLatencyStats } from "./stats.js";
export { createExecutionTracker, ExecutionTracker } from "./ExecutionTracker.js";
export type {
  ExecutionTrackerOptions,
  ExecutionStartData,
  ExecutionUpdateData,
  ExecutionCompleteData,
  PerformanceMetricsData,
} from "./ExecutionTracker.js";
export { Execution, ExecutionState } from "./Execution.js";
export type {
  StartExecutionOptions,
  ChildExecutionOptions,
  EventDetails,
  TokenUsage,
  MetricsInput,
  CompleteOptions,
  FailOptions,
  RecordErrorOptions,
  ToolCall,
  ToolCallOptions,
  LlmCall,
  LlmCallOptions,
  LlmCallEnd,
} from "./execution-options.js";
export { ExecutionTimingCollector, TimingPhase } from "./ExecutionTimingCollector.js";
export type { PhaseTimer, TimingBreakdown, TimingCollectorOptions } from "./ExecutionTimingCollector.js";
export { AgentTracer, createAgentTracer } from "./AgentTracer.js";
export type { AgentTracerOptions, AgentSpanOptions, AgentSpanLink } from "./AgentTracer.js";
export { AgentSpan, LlmSpan, ToolSpan } from "./AgentSpan.js";
export type { AgentSpanEnd, LlmSpanEnd, ToolSpanEnd } from "./AgentSpan.js";
export type { OtlpOptions } from "./otlp.js";
export {
  GENAI_SEMCONV_VERSION,
  GenAiOperation,
  TracehouseAttribute,
  agentSpanAttributes,
  llmRequestAttributes,
  llmResponseAttributes,
  toolCallAttributes,
  usageAttributes,
  errorType,
} from "./genai.js";
export type { LlmRequestFields, LlmResponseFields, ToolCallFields } from "./genai.js";
export { TracehouseSpanExporter, SpanAttribute, spanRecordFields } from "./TracehouseSpanExporter.js";
export { linearGrouping } from "./internal/kafkajs-grouping.js";
export { ensureLz4Codec, hasUsableCodec } from "./internal/lz4-codec.js";
export type { GroupingState } from "./internal/kafkajs-grouping.js";
export { directRecords } from "./internal/kafkajs-record.js";
export { directProduce } from "./internal/kafkajs-produce.js";
export { directFetchRecords } from "./internal/kafkajs-fetch-record.js";
export type { ReplacementState } from "./internal/kafkajs-module.js";
