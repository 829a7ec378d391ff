import { ExecutionLifecycle, RECORD_TYPES, RecordType, SpanStatusCode } from "@tracehouse/schemas";
import type { SamplingConfig } from "../config.js";

/** 2^52: the last 13 hex digits of a trace id give an exact double. */
const SCALE = 2 ** 52;
const RANDOM_HEX_DIGITS = 13;

/**
 * Where a trace id falls in [0, 1), from its rightmost 13 hex digits (the random part of a
 * W3C trace id). The same id always gives the same value, so every record of a trace gets
 * the same decision, in every process.
 */
export function traceIdRatio(traceId: string): number {
  let value = 0;
  const start = traceId.length - RANDOM_HEX_DIGITS;
  for (let i = start < 0 ? 0 : start; i < traceId.length; i++) {
    const c = traceId.charCodeAt(i);
    const digit = c <= 57 ? c - 48 : (c | 32) - 87;
    value = value * 16 + (digit >= 0 && digit < 16 ? digit : 0);
  }
  return value / SCALE;
}

/** Head-based sampling per trace and record type; errors and failures are always kept. */
export class Sampler {
  readonly #thresholds: Readonly<Record<RecordType, number>>;
  readonly #honourSampledFlag: boolean;
  readonly #keepsAll: boolean;

  constructor(config: SamplingConfig) {
    const thresholds = {} as Record<RecordType, number>;
    for (const type of RECORD_TYPES) thresholds[type] = config.rates[type];
    this.#thresholds = thresholds;
    this.#honourSampledFlag = config.honourSampledFlag;
    this.#keepsAll = RECORD_TYPES.every((type) => config.rates[type] >= 1);
  }

  /** `fields` is read only to recognise failures (FAILED executions, ERROR spans). */
  keep(
    type: RecordType,
    traceId: string,
    sampledFlag: boolean,
    fields: Readonly<Record<string, unknown>>,
  ): boolean {
    if (this.#keepsAll && (sampledFlag || !this.#honourSampledFlag)) return true;
    if (alwaysKept(type, fields)) return true;
    if (!sampledFlag && this.#honourSampledFlag) return false;
    const rate = this.#thresholds[type];
    return rate >= 1 || traceIdRatio(traceId) < rate;
  }
}

function alwaysKept(type: RecordType, fields: Readonly<Record<string, unknown>>): boolean {
  switch (type) {
    case RecordType.Error:
      return true;
    case RecordType.Execution:
      return fields.lifecycle === ExecutionLifecycle.Failed;
    case RecordType.Span:
      return fields.status_code === SpanStatusCode.Error;
    default:
      return false;
  }
}
