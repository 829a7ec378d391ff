export {
  ErrorCode,
  TracehouseError,
  NonRetriableError,
  ConfigError,
  DecodeError,
  DecodeErrorReason,
  SchemaResolutionError,
  SchemaResolutionReason,
  ValidationError,
  SecurityError,
  SecurityErrorReason,
  isTracehouseError,
  isRetriable,
} from "./errors.js";
export type { TracehouseErrorOptions, DecodeErrorOptions, ValidationIssue } from "./errors.js";

export { RecordType, RECORD_TYPES, isRecordType } from "./record-type.js";
export {
  ENVELOPE_FIELDS,
  EMPTY_METRICS,
  ExecutionLifecycle,
  AgentEventKind,
  CorrelationRelationship,
  ErrorSeverity,
  SpanKind,
  SpanStatusCode,
} from "./records.js";
export type {
  StringMap,
  Envelope,
  ExecutionRecord,
  AgentEventRecord,
  PerformanceMetricsRecord,
  TraceCorrelationRecord,
  ErrorLogRecord,
  SpanRecord,
  SpanEvent,
  SpanLink,
  RecordTypeMap,
  RecordOf,
  TracehouseRecord,
  DefaultedKeys,
  RecordInput,
  RecordInputOf,
} from "./records.js";

export { encodeRecord, decodeRecord } from "./codec.js";
export type { DecodedRecord, EncodeOptions } from "./codec.js";
export {
  MAX_RUNTIME_WRITER_SCHEMAS,
  MAX_WRITER_SCHEMA_CHARS,
  fingerprintOfRecord,
  sameRecordHeader,
  fingerprintOfSchema,
  registerWriterSchema,
  writerSchemaOf,
} from "./writer-schemas.js";
export type { WriterSchema } from "./writer-schemas.js";

export { CONTENT_TYPE_HEADER, contentTypeOf, recordTypeFromContentType } from "./content-type.js";

export { noopLogger } from "./logger.js";
export type { Logger } from "./logger.js";

export { murmur2, partitionOf, createTraceIdPartitioner } from "./partitioner.js";
export type { Partitioner, PartitionerInput } from "./partitioner.js";

export { newEventId, nowMicros, isTraceId, isSpanId, isEventId } from "./ids.js";
export { RandomPool } from "./random-pool.js";

export { CleanupPolicy, DEFAULT_TOPICS, createTopicCatalogue, messageKeyOf } from "./topics.js";
export type {
  TopicSpec,
  TopicFamily,
  TopicOverrides,
  TopicCatalogueOptions,
  TopicCatalogue,
} from "./topics.js";

export { recordFields, avroSchemaOf, currentSchemaVersion, schemaFingerprintOf } from "./schema-info.js";
export type { FieldKind, RecordField } from "./schema-info.js";
export { integerOption } from "./options.js";
export { readOptionFile, secretOption, hideSecret } from "./secrets.js";
export { SaslMechanism, SecurityProtocol, resolveKafkaSecurity } from "./kafka-security.js";
export type {
  KafkaTlsOptions,
  KafkaSaslOptions,
  KafkaSecurityOptions,
  KafkaSecurity,
  KafkaSecuritySummary,
  KafkaJsSasl,
  OAuthBearerToken,
} from "./kafka-security.js";
export { securityErrorOf, checkKafkaTls } from "./security-errors.js";
export { retry, backoffDelayMs, isTransientError, sleep } from "./retry.js";
export type { RetryPolicy, RetryAttempt, RetryOptions } from "./retry.js";
export { PartitionAcks } from "./partition-acks.js";
export type { PartitionAnswer } from "./partition-acks.js";
