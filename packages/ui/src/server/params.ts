import type { TraceListOptions, TimeRange } from "@tracehouse/clickhouse";
import { TraceSort, TraceStatus } from "@tracehouse/clickhouse";
import { ConfigError } from "@tracehouse/schemas";

const DEFAULT_RANGE_MS = 3_600_000;
const MAX_TEXT = 1000;

function text(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  if (value === null || value === "") return undefined;
  if (value.length > MAX_TEXT) throw new ConfigError(`${name} is longer than ${MAX_TEXT} characters`);
  return value;
}

function time(query: URLSearchParams, name: string): number | undefined {
  const value = text(query, name);
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new ConfigError(`${name} must be epoch milliseconds or an ISO date`);
  return ms;
}

function integer(query: URLSearchParams, name: string, max: number): number | undefined {
  const value = text(query, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) > max)
    throw new ConfigError(`${name} must be an integer in 0..${max}`);
  return Number(value);
}

/** `from`/`to` (epoch ms or ISO), or `range` (ms back from now; default one hour). */
export function rangeFrom(query: URLSearchParams, now = Date.now(), defaultMs = DEFAULT_RANGE_MS): TimeRange {
  const to = time(query, "to") ?? now;
  const from = time(query, "from") ?? to - (integer(query, "range", 366 * 86_400_000) ?? defaultMs);
  if (from > to) throw new ConfigError("from is after to");
  return { from: new Date(from), to: new Date(to) };
}

const oneOf = <T extends string>(
  query: URLSearchParams,
  name: string,
  values: readonly T[],
): T | undefined => {
  const value = text(query, name);
  if (value === undefined) return undefined;
  if (!(values as readonly string[]).includes(value))
    throw new ConfigError(`${name} must be one of ${values.join(", ")}`);
  return value as T;
};

/** The trace list's filters from the query string (the same names the front end puts in its URL). */
export function traceListFrom(query: URLSearchParams, now = Date.now()): TraceListOptions {
  const options: { -readonly [K in keyof TraceListOptions]: TraceListOptions[K] } = {
    ...rangeFrom(query, now),
  };
  const set = <K extends keyof TraceListOptions>(key: K, value: TraceListOptions[K] | undefined): void => {
    if (value !== undefined) options[key] = value;
  };
  set("agent", text(query, "agent"));
  set("userId", text(query, "user"));
  set("threadId", text(query, "thread"));
  set("model", text(query, "model"));
  set("text", text(query, "q"));
  set("status", oneOf(query, "status", Object.values(TraceStatus)));
  const hasError = oneOf(query, "errors", ["yes", "no"] as const);
  if (hasError !== undefined) options.hasError = hasError === "yes";
  set("minDurationMs", integer(query, "minMs", 365 * 86_400_000));
  set("sort", oneOf(query, "sort", Object.values(TraceSort)));
  if (oneOf(query, "order", ["asc", "desc"] as const) === "asc") options.descending = false;
  set("limit", integer(query, "limit", 500));
  set("offset", integer(query, "offset", 1_000_000));
  if (options.limit === 0) throw new ConfigError("limit must be at least 1");
  return options;
}

export const TRACE_ID = /^[0-9a-f]{32}$/;
