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
export { DropReason, ProducerState } from "./stats.js";
export type { ProducerStats, SendLatencyStats } from "./stats.js";
export { noopLogger } from "./logger.js";
export type { Logger } from "./logger.js";
