/** One header value as the common carriers hold it: node:http, fetch-style records, Kafka clients. */
export type HeaderValue = string | Uint8Array | readonly (string | Uint8Array)[] | undefined | null;

/**
 * Headers to read a context from: a plain record (node:http `IncomingHttpHeaders`, Kafka
 * client headers, objects), or anything with `forEach((value, name) => …)` such as a fetch
 * `Headers` or a `Map`. Names are matched case-insensitively; values may be strings,
 * Buffers or arrays of them (repeated headers). Anything else is ignored.
 */
export type HeaderCarrier =
  | { readonly [name: string]: HeaderValue }
  | { forEach(callback: (value: string, name: string) => void): void };
