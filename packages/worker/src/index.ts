export { createWorker, Worker, WorkerState } from "./Worker.js";
export type { WorkerStatus } from "./Worker.js";
export { resolveWorkerConfig, WORKER_BOUNDS, WORKER_DEFAULTS } from "./config.js";
export type { WorkerOptions, WorkerConfig, RetryConfig } from "./config.js";
export {
  DeadLetterHeader,
  DeadLetterReason,
  DeadLetterValue,
  parseDeadLetterHeaders,
} from "./dead-letter.js";
export type { DeadLetterInfo } from "./dead-letter.js";
export { DeadLetterLimitError, RetriesExhaustedError } from "./errors.js";
export { replay, rebuild, parseReplayPosition } from "./replay.js";
export type {
  ReplayOptions,
  ReplayPosition,
  ReplayProgress,
  ReplayRange,
  ReplayResult,
  RebuildOptions,
} from "./replay.js";
export { redrive } from "./redrive.js";
export type { RedriveOptions, RedriveResult } from "./redrive.js";
