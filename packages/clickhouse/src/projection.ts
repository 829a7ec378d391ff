import {
  ENVELOPE_FIELDS,
  ErrorCode,
  NonRetriableError,
  RECORD_TYPES,
  RecordType,
  recordFields,
} from "@tracehouse/schemas";
import type { DecodedRecord, SpanEvent } from "@tracehouse/schemas";
import type { Row } from "./sink.js";

/** The six record tables: one row per record, one column per record field. */
export const RecordTable = {
  Executions: "agent_executions",
  Events: "agent_events",
  Metrics: "performance_metrics",
  Correlations: "trace_correlations",
  Errors: "error_logs",
  Spans: "spans",
} as const;
export type RecordTable = (typeof RecordTable)[keyof typeof RecordTable];

/** The table each record type is projected into. */
export const TABLE_OF_RECORD_TYPE = {
  [RecordType.Execution]: RecordTable.Executions,
  [RecordType.Event]: RecordTable.Events,
  [RecordType.Metrics]: RecordTable.Metrics,
  [RecordType.Correlation]: RecordTable.Correlations,
  [RecordType.Error]: RecordTable.Errors,
  [RecordType.Span]: RecordTable.Spans,
} as const satisfies { readonly [T in RecordType]: RecordTable };

/** The six record tables, in record-type order. */
export const RECORD_TABLES: readonly RecordTable[] = Object.freeze(Object.values(TABLE_OF_RECORD_TYPE));

const TABLES: ReadonlySet<string> = new Set(RECORD_TABLES);

export function isRecordTable(value: unknown): value is RecordTable {
  return typeof value === "string" && TABLES.has(value);
}

/** The shared envelope, first in every record table: the columns are the schemas' envelope fields. */
export const ENVELOPE_COLUMNS = ENVELOPE_FIELDS;

/**
 * Columns of each record table, in table order: the fields of the record type's current Avro
 * schema, in schema order (envelope first). The insert formats send values in this order.
 */
export const TABLE_COLUMNS = Object.freeze(
  Object.fromEntries(
    RECORD_TYPES.map((type) => [
      TABLE_OF_RECORD_TYPE[type],
      Object.freeze(recordFields(type).map((field) => field.name)),
    ]),
  ),
) as { readonly [T in RecordTable]: readonly string[] };

/**
 * Nullable string fields stored as '' for null (so they can sit in sorting keys and bloom
 * filters). Inserting null writes ''; the trace queries read '' back as null.
 */
export const EMPTY_MEANS_NULL_COLUMNS: ReadonlySet<string> = new Set([
  "parent_span_id",
  "correlation_id",
  "user_id",
  "thread_id",
  "execution_id",
  "agent_name",
  "parent_execution_id",
  "child_agent_name",
  "retry_of_execution_id",
]);

/** DateTime64(6) columns; rows may carry them as epoch microseconds. */
export const TIME_COLUMNS: ReadonlySet<string> = new Set(["event_time", "start_time", "end_time"]);

/** A record that decodes but cannot become a row (e.g. a time outside DateTime64(6)); dead-lettered, never retried. */
export class RowMappingError extends NonRetriableError {
  override readonly name: string = "RowMappingError";
  readonly column: string;

  constructor(column: string, message: string) {
    super(`${column}: ${message}`, { code: ErrorCode.Validation });
    this.column = column;
  }
}

/** DateTime64(6) holds 1900-01-01 to 2299-12-31; ClickHouse would silently clamp anything outside. */
const MIN_TIME_MICROS = Date.UTC(1900, 0, 1) * 1000;
const MAX_TIME_MICROS = Date.UTC(2300, 0, 1) * 1000 - 1;
/** DateTime (seconds, unsigned 32 bits): what the TTL expressions and hourly rollups turn `event_time` into. */
const DATETIME_MIN_MICROS = 0;
const DATETIME_MAX_MICROS = 4_294_967_295 * 1_000_000;
const DAY_MICROS = 86_400 * 1_000_000;

/** The `event_time` values a table stores and keeps: inclusive epoch-microsecond bounds. */
export interface EventTimeBounds {
  readonly minMicros: number;
  readonly maxMicros: number;
}

/**
 * What `event_time` may be so that a row is kept: `toDateTime(event_time) + TTL` must neither wrap
 * (DateTime ends in 2106) nor be already past (older than the TTL at `nowMs`). Without a TTL only the
 * DateTime range applies (the hourly rollups and trace index convert to DateTime).
 */
export function eventTimeBounds(ttlDays: number | null, nowMs: number = Date.now()): EventTimeBounds {
  if (ttlDays === null) return { minMicros: DATETIME_MIN_MICROS, maxMicros: DATETIME_MAX_MICROS };
  return {
    minMicros: Math.max(DATETIME_MIN_MICROS, nowMs * 1000 - ttlDays * DAY_MICROS),
    maxMicros: DATETIME_MAX_MICROS - (ttlDays + 1) * DAY_MICROS,
  };
}

const DATETIME_BOUNDS = eventTimeBounds(null);

function iso(micros: number): string {
  const date = new Date(Math.floor(micros / 1000));
  return Number.isNaN(date.getTime()) ? `${micros} µs` : date.toISOString();
}

function checkTime(column: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new RowMappingError(column, `expected epoch microseconds, got ${String(value)}`);
  }
  if (value < MIN_TIME_MICROS || value > MAX_TIME_MICROS) {
    throw new RowMappingError(column, `${value} µs is outside the years 1900–2299`);
  }
  return value;
}

function checkEventTime(value: unknown, bounds: EventTimeBounds): number {
  const micros = checkTime("event_time", value);
  if (micros < bounds.minMicros || micros > bounds.maxMicros) {
    throw new RowMappingError(
      "event_time",
      `${iso(micros)} cannot be kept: the table stores and keeps ${iso(bounds.minMicros)} to ${iso(bounds.maxMicros)}`,
    );
  }
  return micros;
}

/** What the projection does to each record type: its table and the columns it checks or rewrites. */
interface Plan {
  readonly table: RecordTable;
  /** DateTime64(6) columns besides `event_time`. */
  readonly times: readonly string[];
  /** Nullable ids stored as '' for null. */
  readonly emptyForNull: readonly string[];
}

const PLANS = Object.fromEntries(
  RECORD_TYPES.map((type) => {
    const table = TABLE_OF_RECORD_TYPE[type];
    const columns = TABLE_COLUMNS[table];
    const plan: Plan = {
      table,
      times: columns.filter((column) => TIME_COLUMNS.has(column) && column !== "event_time"),
      emptyForNull: columns.filter((column) => EMPTY_MEANS_NULL_COLUMNS.has(column)),
    };
    return [type, plan];
  }),
) as { readonly [T in RecordType]: Plan };

function checkSpanEvents(events: readonly SpanEvent[]): void {
  for (let index = 0; index < events.length; index++) checkTime(`events.${index}.time`, events[index]!.time);
}

/** The identity a record's headers carry in their baggage (a TraceContext fits). */
export interface IdentityContext {
  readonly correlationId?: string | undefined;
  readonly userId?: string | undefined;
  readonly threadId?: string | undefined;
}

/** Envelope identity fields a record may leave null and its headers' baggage may carry. */
const IDENTITY_FROM_CONTEXT = [
  ["correlation_id", "correlationId"],
  ["user_id", "userId"],
  ["thread_id", "threadId"],
] as const satisfies readonly (readonly [string, keyof IdentityContext])[];

type IdentityField = (typeof IDENTITY_FROM_CONTEXT)[number];

/** Per record type, per writer version: the identity fields that version lacks. */
const missingIdentityCache = Object.fromEntries(
  RECORD_TYPES.map((type) => [type, [] as (readonly IdentityField[] | undefined)[]]),
) as { readonly [T in RecordType]: (readonly IdentityField[] | undefined)[] };

/** The identity fields the record's writer schema does not have at all (an explicit null is the record's own value). */
function missingIdentity(decoded: DecodedRecord): readonly IdentityField[] {
  const byVersion = missingIdentityCache[decoded.type];
  let missing = byVersion[decoded.version];
  if (missing === undefined) {
    // Version 0: a newer writer's schema resolved at run time, taken to keep the current identity fields.
    const version = decoded.version === 0 ? undefined : decoded.version;
    const names = new Set(recordFields(decoded.type, version).map((field) => field.name));
    missing = IDENTITY_FROM_CONTEXT.filter(([column]) => !names.has(column));
    byVersion[decoded.version] = missing;
  }
  return missing;
}

/** Whether the record's writer schema lacks an identity field that its headers' trace context might fill. */
export function lacksIdentity(decoded: DecodedRecord): boolean {
  return missingIdentity(decoded).length > 0;
}

export interface MappedRow {
  readonly table: RecordTable;
  readonly row: Row;
}

/**
 * The one mapping from records to rows: every column of the record's table takes the record
 * field of the same name, so the row is the decoded record itself, normalised in place (no copy:
 * the decoded record is consumed). Nullable ids stored as '' get '' for null; times stay epoch
 * microseconds and must fit DateTime64(6), `event_time` also `bounds` (what the table keeps).
 * Identity fields (correlation, user, thread) the writer schema does not have at all are taken
 * from the trace context of its headers; a field the record has, even null, is the record's.
 * Throws RowMappingError for a record that cannot be stored faithfully.
 */
export function toRow(
  decoded: DecodedRecord,
  context?: IdentityContext,
  bounds: EventTimeBounds = DATETIME_BOUNDS,
): MappedRow {
  const plan = PLANS[decoded.type];
  const row = decoded.record as unknown as Record<string, unknown>;
  checkEventTime(row.event_time, bounds);
  for (const column of plan.times) checkTime(column, row[column]);
  for (const column of plan.emptyForNull) if (row[column] === null) row[column] = "";
  if (decoded.type === RecordType.Span) checkSpanEvents(decoded.record.events);
  if (context !== undefined) {
    for (const [column, property] of missingIdentity(decoded)) {
      const fromContext = context[property];
      if (fromContext !== undefined) row[column] = fromContext;
    }
  }
  return { table: plan.table, row };
}

/** Span events' times as epoch µs, in the shape of the record's `events` field. */
const SPAN_EVENTS_AS_RECORDED =
  "CAST(arrayMap(e -> (e.name, toUnixTimestamp64Micro(e.time), e.attributes), t.events), 'Array(Tuple(name String, time Int64, attributes Map(String, String)))')";

/**
 * The inverse of `toRow`, in SQL: the select list that reads a row of `table` (aliased `t`) back
 * as the record's fields, times as epoch µs and '' as null for the ids stored that way.
 */
export function fromRowSelect(table: RecordTable): string {
  return TABLE_COLUMNS[table]
    .map((column) => {
      if (table === RecordTable.Spans && column === "events") return `${SPAN_EVENTS_AS_RECORDED} AS events`;
      if (TIME_COLUMNS.has(column)) return `toUnixTimestamp64Micro(t.${column}) AS ${column}`;
      if (EMPTY_MEANS_NULL_COLUMNS.has(column)) return `nullIf(t.${column}, '') AS ${column}`;
      return `t.${column} AS ${column}`;
    })
    .join(", ");
}
