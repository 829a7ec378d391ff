import { isValidIdAt, lowerHexByteAt } from "./internal/ids.js";
import { trimOws } from "./internal/list.js";

/** The fields of a `traceparent` header (W3C Trace Context). */
export interface Traceparent {
  /** 32 lowercase hex characters, not all zero. */
  readonly traceId: string;
  /** The caller's span: the spec's `parent-id`, 16 lowercase hex characters, not all zero. */
  readonly spanId: string;
  /** 8-bit field; only the flags this implementation knows are kept (see {@link TraceFlag}). */
  readonly traceFlags: number;
}

/** The trace flags defined by W3C Trace Context Level 2. Other bits MUST be sent as zero. */
export const TraceFlag = {
  None: 0x00,
  Sampled: 0x01,
  /** Level 2: the trace id was generated with at least 56 random bits (its right-most 7 bytes). */
  Random: 0x02,
} as const;
export type TraceFlag = (typeof TraceFlag)[keyof typeof TraceFlag];

const KNOWN_FLAGS = TraceFlag.Sampled | TraceFlag.Random;
const TRACEPARENT_LENGTH = 55;
const DASH = 0x2d;

/**
 * Parses a `traceparent` value, strictly per W3C Trace Context:
 * - optional white space (space, tab) around the value is ignored;
 * - `version` is two lowercase hex digits followed by `-`; `ff` is invalid;
 * - version `00` is exactly 55 characters: trailing data makes it invalid;
 * - a higher version is parsed by its first four fields, which must be followed by the
 *   end of the value or a `-` (anything after is ignored); only its sampled bit is used;
 * - trace-id and parent-id are lowercase hex of exact length and not all zero.
 *
 * Returns null on any violation; never throws.
 */
export function parseTraceparent(header: unknown): Traceparent | null {
  if (typeof header !== "string") return null;
  const value = trimOws(header);
  if (value.length < TRACEPARENT_LENGTH) return null;
  const version = lowerHexByteAt(value, 0);
  if (version < 0 || version === 0xff || value.charCodeAt(2) !== DASH) return null;
  if (
    version === 0
      ? value.length !== TRACEPARENT_LENGTH
      : value.length > TRACEPARENT_LENGTH && value.charCodeAt(TRACEPARENT_LENGTH) !== DASH
  ) {
    return null;
  }
  if (!isValidIdAt(value, 3, 32) || value.charCodeAt(35) !== DASH) return null;
  if (!isValidIdAt(value, 36, 16) || value.charCodeAt(52) !== DASH) return null;
  const flags = lowerHexByteAt(value, 53);
  if (flags < 0) return null;
  return {
    traceId: value.slice(3, 35),
    spanId: value.slice(36, 52),
    traceFlags: flags & (version === 0 ? KNOWN_FLAGS : TraceFlag.Sampled),
  };
}

const FLAG_HEX = ["-00", "-01", "-02", "-03"] as const;

/** Formats a version `00` `traceparent`; unknown flag bits are written as zero. */
export function formatTraceparent(traceparent: Traceparent): string {
  return `00-${traceparent.traceId}-${traceparent.spanId}${FLAG_HEX[traceparent.traceFlags & KNOWN_FLAGS] ?? "-00"}`;
}
