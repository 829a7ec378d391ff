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
  LlmCall,
} from "./Execution.js";
export { ExecutionTimingCollector, TimingPhase } from "./ExecutionTimingCollector.js";
export type { PhaseTimer, TimingBreakdown, TimingCollectorOptions } from "./ExecutionTimingCollector.js";
export { AgentTracer, AgentSpan, createAgentTracer } from "./AgentTracer.js";
export type { AgentTracerOptions, AgentSpanOptions } from "./AgentTracer.js";
export { TracehouseSpanExporter, SpanAttribute, spanRecordFields } from "./TracehouseSpanExporter.js";
