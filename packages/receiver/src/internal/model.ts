/** Attributes as text: strings as they are, numbers and booleans rendered, arrays and maps as JSON. */
export type TextAttributes = Record<string, string>;

export interface OtlpEvent {
  readonly name: string;
  readonly timeUs: number;
  readonly attributes: TextAttributes;
}

export interface OtlpLink {
  readonly traceId: string;
  readonly spanId: string;
  readonly attributes: TextAttributes;
}

/** OTLP span kind numbers (SPAN_KIND_*). */
export const OtlpSpanKind = {
  Unspecified: 0,
  Internal: 1,
  Server: 2,
  Client: 3,
  Producer: 4,
  Consumer: 5,
} as const;

/** OTLP status code numbers (STATUS_CODE_*). */
export const OtlpStatusCode = { Unset: 0, Ok: 1, Error: 2 } as const;

/** One span of an export request, decoded and checked: ids are lowercase hex, times epoch microseconds. */
export interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | null;
  readonly name: string;
  readonly kind: number;
  readonly startUs: number;
  readonly endUs: number;
  readonly attributes: TextAttributes;
  readonly events: readonly OtlpEvent[];
  readonly links: readonly OtlpLink[];
  readonly statusCode: number;
  readonly statusMessage: string | null;
}

export interface OtlpScope {
  readonly name: string;
  readonly version: string;
  readonly attributes: TextAttributes;
}

/** The spans of one resource and instrumentation scope. */
export interface OtlpSpanGroup {
  readonly resource: TextAttributes;
  readonly scope: OtlpScope;
  readonly spans: readonly OtlpSpan[];
}

/** A decoded export request: the spans that can be mapped, and those rejected while decoding. */
export interface OtlpExport {
  readonly groups: readonly OtlpSpanGroup[];
  readonly spanCount: number;
  readonly rejected: number;
  /** Why the first rejected span was rejected, or null. */
  readonly rejectReason: string | null;
}
