import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { defaultResource, detectResources, envDetector } from "@opentelemetry/resources";
import type { Resource } from "@opentelemetry/resources";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base";

/** OTLP/HTTP (protobuf) export of the tracer's spans. */
export interface OtlpOptions {
  /**
   * The full traces URL, e.g. `http://collector:4318/v1/traces`. Default:
   * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`,
   * else `http://localhost:4318/v1/traces`.
   */
  readonly url?: string;
  /** Sent with every export, over `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS`. Default: those. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Default: `OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT`, else 10000. */
  readonly timeoutMillis?: number;
  /** Default: `OTEL_EXPORTER_OTLP_(TRACES_)COMPRESSION`, else none. */
  readonly compression?: "gzip" | "none";
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Whether to export over OTLP: `false` never, an object or `true` always, and unset when the
 * standard environment names an endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) and `OTEL_TRACES_EXPORTER` is not `none`.
 */
export function otlpWanted(option: OtlpOptions | boolean | undefined, env: Env = process.env): boolean {
  if (option !== undefined) return option !== false;
  const endpoint = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] || env["OTEL_EXPORTER_OTLP_ENDPOINT"];
  return Boolean(endpoint) && env["OTEL_TRACES_EXPORTER"]?.trim() !== "none";
}

/**
 * A BatchSpanProcessor (tuned by `OTEL_BSP_*`) over the OTLP/HTTP protobuf exporter. The
 * processor exports with tracing suppressed, so the exporter's own HTTP requests are never
 * traced, even under a globally registered HTTP instrumentation.
 */
export function otlpSpanProcessor(options: OtlpOptions = {}): SpanProcessor {
  const exporter = new OTLPTraceExporter({
    ...(options.url === undefined ? {} : { url: options.url }),
    ...(options.headers === undefined ? {} : { headers: { ...options.headers } }),
    ...(options.timeoutMillis === undefined ? {} : { timeoutMillis: options.timeoutMillis }),
    ...(options.compression === undefined ? {} : { compression: options.compression }),
  } as ConstructorParameters<typeof OTLPTraceExporter>[0]);
  return new BatchSpanProcessor(exporter);
}

/**
 * The SDK's default resource (`service.name`, `telemetry.sdk.*`), then the application's,
 * then what the environment sets (`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SERVICE_NAME`, which
 * wins), as the Node SDK merges them.
 */
export function tracerResource(resource: Resource | undefined): Resource {
  return defaultResource()
    .merge(resource ?? null)
    .merge(detectResources({ detectors: [envDetector] }));
}
