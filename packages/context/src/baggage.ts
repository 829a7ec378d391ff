import { forEachListItem, combineValues, trimOws } from "./internal/list.js";

/** One baggage list-member: its decoded value and its properties, kept as opaque text. */
export interface BaggageEntry {
  readonly value: string;
  /** The member's properties after the first `;`, normalized to `k1=v1;k2`. */
  readonly metadata?: string;
}

/** Baggage entries by key, in header order. */
export type Baggage = ReadonlyMap<string, BaggageEntry>;

/** W3C Baggage limits: the minimum every platform MUST propagate, applied as our maximum. */
export const BaggageLimit = {
  maxMembers: 64,
  /** Bytes of the serialized `baggage-string`, commas included. */
  maxBytes: 8192,
} as const;

const TOKEN_CHAR = new Uint8Array(128);
const BAGGAGE_OCTET = new Uint8Array(128);
// token (RFC 7230 §3.2.6) = 1*tchar
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TOKEN_CHAR[c.charCodeAt(0)] = 1;
}
// baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
for (let c = 0x21; c <= 0x7e; c++) {
  if (c !== 0x22 && c !== 0x2c && c !== 0x3b && c !== 0x5c) BAGGAGE_OCTET[c] = 1;
}

function isToken(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 128 || TOKEN_CHAR[code] === 0) return false;
  }
  return true;
}

function isBaggageOctets(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 128 || BAGGAGE_OCTET[code] === 0) return false;
  }
  return true;
}

export function isValidBaggageKey(key: string): boolean {
  return isToken(key);
}

/** A baggage-octet that needs no encoding: everything but `%`. */
function isSafeOctet(code: number): boolean {
  return code < 128 && code !== 0x25 && BAGGAGE_OCTET[code] === 1;
}

const PERCENT_HEX = Array.from(
  { length: 256 },
  (_, byte) => `%${byte.toString(16).toUpperCase().padStart(2, "0")}`,
);

/**
 * Percent-encodes a value: every code point outside `baggage-octet`, and `%` itself, is
 * written as its UTF-8 bytes. Lone surrogates become U+FFFD.
 */
export function encodeBaggageValue(value: string): string {
  let i = 0;
  while (i < value.length && isSafeOctet(value.charCodeAt(i))) i++;
  if (i === value.length) return value;
  const bytes = Buffer.from(value, "utf8");
  let out = value.slice(0, i);
  for (let j = i; j < bytes.length; j++) {
    const byte = bytes[j] as number;
    out += isSafeOctet(byte) ? String.fromCharCode(byte) : PERCENT_HEX[byte];
  }
  return out;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/**
 * Decodes percent-encoded UTF-8; byte sequences that are not UTF-8 become U+FFFD and a
 * `%` not followed by two hex digits is kept as is.
 */
export function decodeBaggageValue(value: string): string {
  if (!value.includes("%")) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0x25 && i + 2 < value.length) {
      const high = hexValue(value.charCodeAt(i + 1));
      const low = hexValue(value.charCodeAt(i + 2));
      if (high >= 0 && low >= 0) {
        bytes.push(high * 16 + low);
        i += 2;
        continue;
      }
    }
    if (code < 0x80) bytes.push(code);
    else for (const byte of Buffer.from(value[i] as string, "utf8")) bytes.push(byte);
  }
  return Buffer.from(bytes).toString("utf8");
}

function normalizeProperty(raw: string): string | null {
  const property = trimOws(raw);
  const eq = property.indexOf("=");
  if (eq < 0) return isToken(property) ? property : null;
  const key = trimOws(property.slice(0, eq));
  const value = trimOws(property.slice(eq + 1));
  return isToken(key) && isBaggageOctets(value) ? `${key}=${value}` : null;
}

/** Validates and normalizes properties (`k1=v1;k2`); null when one breaks the grammar. */
export function normalizeBaggageMetadata(metadata: string): string | null {
  let normalized = "";
  let valid = true;
  forEachListItem(metadata, ";", (raw) => {
    const property = normalizeProperty(raw);
    if (property === null) return (valid = false);
    normalized = normalized.length === 0 ? property : `${normalized};${property}`;
    return true;
  });
  return valid ? normalized : null;
}

/**
 * Calls `visit` with each valid list-member of a combined `baggage` value, in order,
 * within the limits (see {@link parseBaggage}).
 */
export function forEachBaggageMember(
  header: string,
  visit: (key: string, entry: BaggageEntry) => void,
): void {
  let totalBytes = 0;
  let members = 0;
  forEachListItem(header, ",", (raw) => {
    const semicolon = raw.indexOf(";");
    const pair = semicolon < 0 ? raw : raw.slice(0, semicolon);
    const eq = pair.indexOf("=");
    if (eq < 0) return true;
    const key = trimOws(pair.slice(0, eq));
    const encoded = trimOws(pair.slice(eq + 1));
    if (!isToken(key) || !isBaggageOctets(encoded)) return true;
    const metadata = semicolon < 0 ? undefined : normalizeBaggageMetadata(raw.slice(semicolon + 1));
    if (metadata === null) return true;
    const bytes =
      (members === 0 ? 0 : 1) +
      key.length +
      1 +
      encoded.length +
      (metadata === undefined ? 0 : 1 + metadata.length);
    if (totalBytes + bytes > BaggageLimit.maxBytes) return true;
    totalBytes += bytes;
    members++;
    const value = decodeBaggageValue(encoded);
    visit(key, metadata === undefined ? { value } : { value, metadata });
    return members < BaggageLimit.maxMembers;
  });
}

/**
 * Parses `baggage` (one value, or the values of repeated headers, combined in order) per
 * W3C Baggage: white space around keys, values and properties is trimmed, values are
 * percent-decoded as UTF-8. A list-member that breaks the grammar is dropped (the spec
 * allows removing malformed entries); members beyond 64, or beyond 8192 bytes in total,
 * are dropped. A repeated key keeps its first position and its last value.
 *
 * Returns null when no valid list-member remains. Never throws.
 */
export function parseBaggage(header: unknown): Baggage | null {
  const combined = combineValues(header);
  if (combined === null) return null;
  const entries = new Map<string, BaggageEntry>();
  forEachBaggageMember(combined, (key, entry) => entries.set(key, entry));
  return entries.size === 0 ? null : entries;
}

/** Serializes one member, value percent-encoded. */
export function formatBaggageMember(key: string, entry: BaggageEntry): string {
  const pair = `${key}=${encodeBaggageValue(entry.value)}`;
  return entry.metadata ? `${pair};${entry.metadata}` : pair;
}

/**
 * Serializes baggage members in order, keeping whole members only while the result stays
 * within 64 members and 8192 bytes. Members are expected to be valid (see
 * {@link isValidBaggageKey}); returns "" for none.
 */
export function formatBaggageMembers(members: Iterable<readonly [string, BaggageEntry]>): string {
  let out = "";
  let count = 0;
  for (const [key, entry] of members) {
    if (count === BaggageLimit.maxMembers) break;
    const member = formatBaggageMember(key, entry);
    const length = out.length === 0 ? member.length : out.length + 1 + member.length;
    if (length > BaggageLimit.maxBytes) continue;
    out = out.length === 0 ? member : `${out},${member}`;
    count++;
  }
  return out;
}

/** Serializes baggage into a `baggage` header value, within the W3C limits. */
export function formatBaggage(baggage: Baggage): string {
  return formatBaggageMembers(baggage);
}
