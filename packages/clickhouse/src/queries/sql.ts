import { ConfigError } from "@tracehouse/schemas";

/** A half-open time window [from, to). */
export interface TimeRange {
  readonly from: Date;
  readonly to: Date;
}

/** A DateTime64 parameter given as epoch microseconds. */
export const timeParam = (name: string): string => `fromUnixTimestamp64Micro({${name}:Int64}, 'UTC')`;

export function rangeParams(range: TimeRange): { from_us: number; to_us: number } {
  if (
    !(range.from instanceof Date) ||
    !(range.to instanceof Date) ||
    Number.isNaN(range.from.getTime()) ||
    Number.isNaN(range.to.getTime())
  ) {
    throw new ConfigError("from and to must be valid Dates");
  }
  if (range.to.getTime() < range.from.getTime()) throw new ConfigError("to is before from");
  return { from_us: range.from.getTime() * 1000, to_us: range.to.getTime() * 1000 };
}

export function limitParam(limit: number | undefined, fallback: number, max = 10_000): number {
  const value = limit ?? fallback;
  if (!Number.isInteger(value) || value <= 0 || value > max)
    throw new ConfigError(`limit must be an integer in 1..${max}, got ${value}`);
  return value;
}

export const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));
export const numOrNull = (value: unknown): number | null =>
  value === null || value === undefined || Number.isNaN(Number(value)) ? null : Number(value);
export const strOrNull = (value: unknown): string | null =>
  value === null || value === undefined || value === "" ? null : String(value);

export interface Quantiles {
  /** Values the quantiles are taken over; 0 leaves every quantile null. */
  readonly samples: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

export function quantiles(values: unknown, samples: unknown): Quantiles {
  const list = Array.isArray(values) && num(samples) > 0 ? values : [];
  return { samples: num(samples), p50: numOrNull(list[0]), p95: numOrNull(list[1]), p99: numOrNull(list[2]) };
}
