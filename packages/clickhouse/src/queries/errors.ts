import type { Sink } from "../sink.js";
import { limitParam, num, rangeParams, strOrNull, timeParam } from "./sql.js";
import type { TimeRange } from "./sql.js";

export interface ErrorSummaryRow {
  readonly agentName: string | null;
  readonly errorClass: string;
  readonly severity: string;
  readonly errors: number;
  readonly retriableErrors: number;
  readonly traces: number;
  readonly executions: number;
  readonly firstSeenUs: number;
  readonly lastSeenUs: number;
  readonly sampleMessage: string;
}

export interface ErrorHourlyRow {
  readonly hour: Date;
  readonly agentName: string | null;
  readonly errorClass: string;
  readonly errors: number;
}

export interface ErrorExample {
  readonly agentName: string | null;
  readonly errorClass: string;
  readonly traceId: string;
  readonly executionId: string | null;
  readonly message: string;
  readonly timeUs: number;
}

const HOURS = `hour >= toStartOfHour(${timeParam("from_us")}) AND hour < ${timeParam("to_us")}`;

/** Errors per agent, class and severity over the hours overlapping the window, most frequent first. */
export async function errorSummary(sink: Sink, range: TimeRange): Promise<ErrorSummaryRow[]> {
  const rows = await sink.query<Record<string, unknown>>(
    `SELECT agent_name, error_class, severity,
            uniqExactMerge(errors) AS errors, uniqExactMerge(retriable_errors) AS retriable_errors,
            uniqExactMerge(traces) AS traces, uniqExactMerge(executions) AS executions,
            toUnixTimestamp64Micro(min(first_seen)) AS first_seen_us,
            toUnixTimestamp64Micro(max(last_seen)) AS last_seen_us,
            argMaxMerge(sample_message) AS sample_message
     FROM ${sink.database}.errors_hourly
     WHERE ${HOURS}
     GROUP BY agent_name, error_class, severity
     ORDER BY errors DESC, agent_name, error_class, severity`,
    rangeParams(range),
  );
  return rows.map((row) => ({
    agentName: strOrNull(row["agent_name"]),
    errorClass: String(row["error_class"]),
    severity: String(row["severity"]),
    errors: num(row["errors"]),
    retriableErrors: num(row["retriable_errors"]),
    traces: num(row["traces"]),
    executions: num(row["executions"]),
    firstSeenUs: num(row["first_seen_us"]),
    lastSeenUs: num(row["last_seen_us"]),
    sampleMessage: String(row["sample_message"]),
  }));
}

/** Errors per hour, agent and class (all severities), from the errors_hourly view. */
export async function errorHourly(sink: Sink, range: TimeRange): Promise<ErrorHourlyRow[]> {
  const rows = await sink.query<Record<string, unknown>>(
    `SELECT toUnixTimestamp(hour) AS hour_s, agent_name, error_class, uniqExactMerge(errors) AS errors
     FROM ${sink.database}.errors_hourly
     WHERE ${HOURS}
     GROUP BY hour, agent_name, error_class
     ORDER BY hour, agent_name, error_class`,
    rangeParams(range),
  );
  return rows.map((row) => ({
    hour: new Date(num(row["hour_s"]) * 1000),
    agentName: strOrNull(row["agent_name"]),
    errorClass: String(row["error_class"]),
    errors: num(row["errors"]),
  }));
}

/** The latest errors of each agent and class in the window, `perGroup` of each (default 3). */
export async function errorExamples(
  sink: Sink,
  range: TimeRange & { readonly perGroup?: number },
): Promise<ErrorExample[]> {
  const rows = await sink.query<Record<string, unknown>>(
    `SELECT agent_name, error_class, trace_id, execution_id, message, toUnixTimestamp64Micro(event_time) AS time_us
     FROM (SELECT * FROM ${sink.database}.error_logs
           WHERE event_time >= ${timeParam("from_us")} AND event_time < ${timeParam("to_us")}
           LIMIT 1 BY event_id)
     ORDER BY event_time DESC, event_id
     LIMIT {per_group:UInt32} BY agent_name, error_class`,
    { ...rangeParams(range), per_group: limitParam(range.perGroup, 3, 100) },
  );
  return rows.map((row) => ({
    agentName: strOrNull(row["agent_name"]),
    errorClass: String(row["error_class"]),
    traceId: String(row["trace_id"]),
    executionId: strOrNull(row["execution_id"]),
    message: String(row["message"]),
    timeUs: num(row["time_us"]),
  }));
}
