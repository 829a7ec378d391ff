export { EmbeddedSink } from "./EmbeddedSink.js";
export { EncodedRows } from "./encoded-rows.js";
export { HttpSink } from "./HttpSink.js";
export {
  ClickHouseTraceSchema,
  resolveSchemaConfig,
  DEFAULT_TTL_DAYS,
  DEFAULT_DEDUP_WINDOW,
} from "./ClickHouseTraceSchema.js";
export type {
  SchemaOptions,
  SchemaConfig,
  MigrationReport,
  TableVerification,
  SchemaVerification,
  TableStats,
} from "./ClickHouseTraceSchema.js";
export { SinkError, MigrationError, isSinkError, InsertFailure, classifyInsertFailure } from "./errors.js";
export type { SinkErrorOptions } from "./errors.js";
export { noopLogger } from "@tracehouse/schemas";
export type { Logger } from "@tracehouse/schemas";
export { SinkKind } from "./sink.js";
export { createSink } from "./create-sink.js";
export { DISTRIBUTED_SUFFIX, throughDistributed, tableFor } from "./distributed.js";
export { TraceQueries } from "./TraceQueries.js";
export type { TraceQueriesOptions } from "./TraceQueries.js";
export type { TimeRange, Quantiles } from "./queries/sql.js";
export { METRIC_FIELDS, IDENTITY_FIELDS } from "./queries/fields.js";
export type { PhaseSums, MetricKey, IdentityKey } from "./queries/fields.js";
export type {
  StoredRecord,
  TraceRecords,
  ExecutionNode,
  TraceSummary,
  TraceTree,
  GetTraceOptions,
} from "./queries/trace-tree.js";
export { TraceStatus, TraceSort } from "./queries/trace-list.js";
export type { FindTracesOptions, TraceListOptions, TraceListItem, TracePage } from "./queries/trace-list.js";
export type {
  AgentStatsOptions,
  AgentStats,
  AgentHourlyStats,
  AgentCostStats,
  AgentHourlyCostStats,
  SlowestExecutionsOptions,
  SlowExecution,
} from "./queries/agents.js";
export type { ErrorSummaryRow, ErrorHourlyRow, ErrorExample } from "./queries/errors.js";
export { CACHED_INPUT_ATTRIBUTE, EMPTY_COST } from "./queries/usage.js";
export { PRICES_TABLE, writePriceTable } from "./queries/prices.js";
export type { ModelUsage, CostSummary } from "./queries/usage.js";
export {
  DEFAULT_PRICES,
  MODEL_DATE_SUFFIX,
  priceKey,
  parsePriceFile,
  mergePrices,
  loadPriceTable,
  findPrice,
  costOf,
} from "./cost.js";
export type { ModelPrice, PriceTable, TokenCounts } from "./cost.js";
export type { Sink, Row, QueryParams, InsertOptions, InsertResult } from "./sink.js";
export { InsertFormat, encodeInsert, encodeJsonCompactEachRow } from "./internal/insert-payload.js";
export type { InsertPayload } from "./internal/insert-payload.js";
export {
  DEFAULT_DATABASE,
  DEFAULT_DATA_DIR,
  DEFAULT_SESSIONS,
  DEFAULT_INDEX_GRANULARITY_BYTES,
  resolveSinkConfig,
  resolveHttpSinkConfig,
  resolveEmbeddedSinkConfig,
} from "./config.js";
export type {
  SinkOptions,
  HttpSinkOptions,
  EmbeddedSinkOptions,
  SinkConfig,
  HttpSinkConfig,
  EmbeddedSinkConfig,
  Environment,
} from "./config.js";
export {
  renderMigrationSql,
  renderMigrations,
  loadMigrations,
  splitStatements,
  DEFAULT_REPLICATION_PATH,
  DEFAULT_REPLICA_NAME,
} from "./migrations.js";
export type { MigrationSettings, Migration, RenderedMigration } from "./migrations.js";
export {
  RecordTable,
  TABLE_OF_RECORD_TYPE,
  RECORD_TABLES,
  isRecordTable,
  ENVELOPE_COLUMNS,
  TABLE_COLUMNS,
  EMPTY_MEANS_NULL_COLUMNS,
  TIME_COLUMNS,
  RowMappingError,
  eventTimeBounds,
  lacksIdentity,
  toRow,
  fromRowSelect,
} from "./projection.js";
export type { EventTimeBounds, IdentityContext, MappedRow } from "./projection.js";
export { SCHEMA_OBJECTS, SchemaObjectKind, MIGRATIONS_TABLE } from "./tables.js";
export type { SchemaObject } from "./tables.js";
