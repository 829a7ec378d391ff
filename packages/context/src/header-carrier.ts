/** One header value as the common carriers hold it: node:http, fetch-style records, Kafka clients. */
export type HeaderValue = string | Uint8Array | readonly (string | Uint8Array)[] | undefined | null;

/**
 * A plain record of headers. Names are matched case-insensitively; values may be strings,
 * Buffers (Kafka) or arrays of them (repeated HTTP headers). Anything else is ignored.
 */
export type HeaderCarrier = { readonly [name: string]: HeaderValue };
