import { RECORD_TYPES } from "./record-type.js";
import type { RecordType } from "./record-type.js";

/** Kafka header naming the record type of the value. */
export const CONTENT_TYPE_HEADER = "content-type";

const PREFIX = "application/vnd.tracehouse.";
const SUFFIX = "+avro";

const BY_CONTENT_TYPE: ReadonlyMap<string, RecordType> = new Map(
  RECORD_TYPES.map((type) => [`${PREFIX}${type}${SUFFIX}`, type]),
);

/** `application/vnd.tracehouse.<type>+avro`. */
export function contentTypeOf(type: RecordType): string {
  return `${PREFIX}${type}${SUFFIX}`;
}

/**
 * The record type named by a content-type header value (string or raw header bytes);
 * case-insensitive, parameters such as `; charset=binary` ignored. Null when absent or unknown.
 */
export function recordTypeFromContentType(header: string | Uint8Array | null | undefined): RecordType | null {
  if (header === null || header === undefined) return null;
  const text = typeof header === "string" ? header : Buffer.from(header).toString("utf8");
  const semicolon = text.indexOf(";");
  const mediaType = (semicolon < 0 ? text : text.slice(0, semicolon)).trim().toLowerCase();
  return BY_CONTENT_TYPE.get(mediaType) ?? null;
}
