import { combineValues, forEachListItem } from "./internal/list.js";

/** W3C Trace Context limits for `tracestate`. */
export const TracestateLimit = {
  /** At most 32 list-members; a longer list is invalid. */
  maxMembers: 32,
  /** Propagated length (members joined by commas) kept after truncation. */
  maxLength: 512,
  /** Members longer than this are the first removed when truncating. */
  largeMemberLength: 128,
} as const;

function isLcAlpha(code: number): boolean {
  return code >= 0x61 && code <= 0x7a;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

// keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
function isKeyChar(code: number): boolean {
  return (
    isLcAlpha(code) ||
    isDigit(code) ||
    code === 0x5f ||
    code === 0x2d ||
    code === 0x2a ||
    code === 0x2f ||
    code === 0x40
  );
}

/**
 * key = (lcalpha / DIGIT) 0*255(keychar) (Trace Context Level 2 §3.3.1.3.1), which takes in
 * Level 1's multi-tenant keys (`tenant@system`) and any other placement of `@`: `foo@`,
 * `foo@@bar`, a system part longer than 14 characters.
 */
export function isValidTracestateKey(key: string): boolean {
  const length = key.length;
  if (length < 1 || length > 256) return false;
  const first = key.charCodeAt(0);
  if (!isLcAlpha(first) && !isDigit(first)) return false;
  for (let i = 1; i < length; i++) if (!isKeyChar(key.charCodeAt(i))) return false;
  return true;
}

/** value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E. */
export function isValidTracestateValue(value: string): boolean {
  const length = value.length;
  if (length < 1 || length > 256 || value.charCodeAt(length - 1) === 0x20) return false;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code > 0x7e || code === 0x2c || code === 0x3d) return false;
  }
  return true;
}

function joinedLength(members: readonly string[]): number {
  let length = members.length === 0 ? 0 : members.length - 1;
  for (const member of members) length += member.length;
  return length;
}

function removeLastWhere(members: string[], predicate: (member: string) => boolean): boolean {
  for (let i = members.length - 1; i >= 0; i--) {
    if (predicate(members[i] as string)) {
      members.splice(i, 1);
      return true;
    }
  }
  return false;
}

/**
 * Truncates whole members until the joined list fits {@link TracestateLimit.maxLength}:
 * members longer than 128 characters go first, then members from the end (§3.3.1.5).
 */
function truncate(members: string[]): string[] {
  let length = joinedLength(members);
  if (length <= TracestateLimit.maxLength) return members;
  const isLarge = (member: string): boolean => member.length > TracestateLimit.largeMemberLength;
  while (length > TracestateLimit.maxLength && removeLastWhere(members, isLarge))
    length = joinedLength(members);
  while (length > TracestateLimit.maxLength) {
    members.pop();
    length = joinedLength(members);
  }
  return members;
}

/**
 * Parses `tracestate` (one value, or the values of repeated headers, combined in order)
 * into its list-members, each kept as the raw `key=value` text without surrounding
 * white space. Empty and white-space-only members are skipped, as the spec allows.
 *
 * A repeated key keeps its first (left-most, most recent) member; the later ones are
 * dropped, and nothing else (Level 2 §3.3.1.4: only one entry per key; §3.5: vendors
 * SHOULD NOT delete keys they did not write).
 *
 * Returns null, so the whole tracestate is discarded, when a member has an invalid key
 * or value, or there are more than 32 distinct members. A valid list longer than 512
 * characters is truncated by whole members. Never throws.
 */
export function parseTracestate(header: unknown): readonly string[] | null {
  const combined = combineValues(header);
  if (combined === null) return null;
  const members: string[] = [];
  let keys: string[] | undefined;
  let valid = true;
  forEachListItem(combined, ",", (member) => {
    if (member.length === 0) return true;
    const eq = member.indexOf("=");
    const key = member.slice(0, eq);
    if (eq <= 0 || !isValidTracestateKey(key) || !isValidTracestateValue(member.slice(eq + 1)))
      return (valid = false);
    keys ??= [];
    if (keys.includes(key)) return true;
    if (members.length === TracestateLimit.maxMembers) return (valid = false);
    keys.push(key);
    members.push(member);
    return true;
  });
  return valid ? truncate(members) : null;
}

/** Joins list-members into a `tracestate` value (empty string for none). */
export function formatTracestate(members: readonly string[]): string {
  return members.join(",");
}
