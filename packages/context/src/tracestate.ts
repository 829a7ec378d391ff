import { trimOws } from "./internal/ows.js";

/** W3C Trace Context limits for `tracestate`. */
export const TracestateLimit = {
  /** At most 32 list-members; a longer list is invalid. */
  maxMembers: 32,
  /** Propagated length (members joined by commas) kept after truncation. */
  maxLength: 512,
  /** Members longer than this are the first removed when truncating. */
  largeMemberLength: 128,
} as const;

// key = simple-key / multi-tenant-key (Trace Context Level 1 §3.3.1.3.1)
const SIMPLE_KEY = "[a-z][a-z0-9_\\-*/]{0,255}";
const MULTI_TENANT_KEY = "[a-z0-9][a-z0-9_\\-*/]{0,240}@[a-z][a-z0-9_\\-*/]{0,13}";
const KEY = new RegExp(`^(?:${SIMPLE_KEY}|${MULTI_TENANT_KEY})$`);
// value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

export function isValidTracestateKey(key: string): boolean {
  return KEY.test(key);
}

export function isValidTracestateValue(value: string): boolean {
  return VALUE.test(value);
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
  let combined: string;
  if (typeof header === "string") combined = header;
  else if (Array.isArray(header) && header.every((part) => typeof part === "string"))
    combined = header.join(",");
  else return null;
  const members: string[] = [];
  const keys = new Set<string>();
  for (const part of combined.split(",")) {
    const member = trimOws(part);
    if (member.length === 0) continue;
    const eq = member.indexOf("=");
    if (eq <= 0) return null;
    const key = member.slice(0, eq);
    if (!isValidTracestateKey(key) || !isValidTracestateValue(member.slice(eq + 1))) return null;
    if (keys.has(key)) return null;
    keys.add(key);
    members.push(member);
    if (members.length > TracestateLimit.maxMembers) return null;
  }
  return truncate(members);
}

/** Joins list-members into a `tracestate` value (empty string for none). */
export function formatTracestate(members: readonly string[]): string {
  return members.join(",");
}
