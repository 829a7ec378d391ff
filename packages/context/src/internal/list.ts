/** Removes optional white space (RFC 7230 OWS: space and horizontal tab) from both ends. */
export function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Calls `visit` with each `separator`-delimited item of `list`, OWS trimmed, in order,
 * until it returns false. Cheaper than `split` on the hot parsing paths.
 */
export function forEachListItem(list: string, separator: string, visit: (item: string) => boolean): void {
  let start = 0;
  for (;;) {
    const end = list.indexOf(separator, start);
    if (!visit(trimOws(list.slice(start, end < 0 ? list.length : end)))) return;
    if (end < 0) return;
    start = end + 1;
  }
}

/** One string from a header's values: as is for one, joined by commas (RFC 7230 §3.2.2) for several. */
export function combineValues(header: unknown): string | null {
  if (typeof header === "string") return header;
  if (!Array.isArray(header)) return null;
  for (const part of header) if (typeof part !== "string") return null;
  return header.length === 1 ? (header[0] as string) : header.join(",");
}
