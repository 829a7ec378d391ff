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

// lcalpha / DIGIT / "_" / "-" / "*" / "/"
function isKeyChar(code: number): boolean {
  return isLcAlpha(code) || isDigit(code) || code === 0x5f || code === 0x2d || code === 0x2a || code === 0x2f;
}

function allKeyChars(key: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isKeyChar(key.charCodeAt(i))) return false;
  return true;
}

/**
 * key = simple-key / multi-tenant-key (Trace Context Level 1 §3.3.1.3.1):
 * simple-key = lcalpha 0*255(keychar); multi-tenant-key = tenant-id "@" system-id,
 * tenant-id = (lcalpha / DIGIT) 0*240(keychar), system-id = lcalpha 0*13(keychar).
 */
export function isValidTracestateKey(key: string): boolean {
  const at = key.indexOf("@");
  if (at < 0)
    return (
      key.length >= 1 && key.length <= 256 && isLcAlpha(key.charCodeAt(0)) && allKeyChars(key, 1, key.length)
    );
  const first = key.charCodeAt(0);
  const systemLength = key.length - at - 1;
  return (
    at >= 1 &&
    at <= 241 &&
    (isLcAlpha(first) || isDigit(first)) &&
    allKeyChars(key, 1, at) &&
    systemLength >= 1 &&
    systemLength <= 14 &&
    isLcAlpha(key.charCodeAt(at + 1)) &&
    allKeyChars(key, at + 2, key.length)
  );
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
 * members longer than 128 characters go first, then members from the end (Level 1 §3.3.1.5).
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
 * Returns null, so the whole tracestate is discarded, when a member has an invalid key
 * or value, a key repeats, or there are more than 32 members. A valid list longer than
 * 512 characters is truncated by whole members. Never throws.
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
    if (members.length === TracestateLimit.maxMembers) return (valid = false);
    keys ??= [];
    if (keys.includes(key)) return (valid = false);
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
