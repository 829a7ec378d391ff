import { ConfigError, integerOption, noopLogger } from "@tracehouse/schemas";
import type { Logger } from "@tracehouse/schemas";
import type { Producer, ProducerOptions } from "@tracehouse/producer";

const MiB = 1024 * 1024;

/**
 * The receiver's options, declared once: name, default, bounds, CLI flag, environment
 * variable and doc. `resolveReceiverConfig` and the `tracehouse receive` flags are made from
 * this table; the README's reference lists it.
 */
export const RECEIVER_OPTIONS = {
  httpPort: {
    default: 4318,
    min: 0,
    max: 65535,
    flag: "http-port",
    env: "TRACEHOUSE_OTLP_HTTP_PORT",
    doc: "OTLP/HTTP port (POST /v1/traces); 0 picks a free port",
  },
  grpcPort: {
    default: 4317,
    min: 0,
    max: 65535,
    flag: "grpc-port",
    env: "TRACEHOUSE_OTLP_GRPC_PORT",
    doc: "OTLP/gRPC port (TraceService/Export); 0 picks a free port",
  },
  maxRequestBytes: {
    default: 16 * MiB,
    min: 1024,
    max: 1024 * MiB,
    flag: "max-request-bytes",
    env: "TRACEHOUSE_OTLP_MAX_REQUEST_BYTES",
    doc: "largest request body, after gzip is undone; larger gets 413 (gRPC RESOURCE_EXHAUSTED)",
  },
  maxSpansPerRequest: {
    default: 100_000,
    min: 1,
    max: 10_000_000,
    flag: "max-spans-per-request",
    env: "TRACEHOUSE_OTLP_MAX_SPANS_PER_REQUEST",
    doc: "most spans in one request; more gets 400",
  },
  maxConcurrentRequests: {
    default: 64,
    min: 1,
    max: 100_000,
    flag: "max-concurrent-requests",
    env: "TRACEHOUSE_OTLP_MAX_CONCURRENT_REQUESTS",
    doc: "export requests processed at once; beyond it 429 (gRPC UNAVAILABLE) with Retry-After",
  },
  requestTimeoutMs: {
    default: 30_000,
    min: 100,
    max: 600_000,
    flag: "request-timeout-ms",
    env: "TRACEHOUSE_OTLP_REQUEST_TIMEOUT_MS",
    doc: "time to receive one request body; a slower client is cut off (408)",
  },
  ackTimeoutMs: {
    default: 10_000,
    min: 10,
    max: 600_000,
    flag: "ack-timeout-ms",
    env: "TRACEHOUSE_OTLP_ACK_TIMEOUT_MS",
    doc: "how long a request waits for Kafka to acknowledge its records before 503 with Retry-After",
  },
  retryAfterSeconds: {
    default: 5,
    min: 1,
    max: 3600,
    flag: "retry-after-seconds",
    env: "TRACEHOUSE_OTLP_RETRY_AFTER_SECONDS",
    doc: "Retry-After of a 429/503 answer (and gRPC RetryInfo)",
  },
  producers: {
    default: 1,
    min: 1,
    max: 64,
    flag: "producers",
    env: "TRACEHOUSE_OTLP_PRODUCERS",
    doc: "producers the receiver emits through, each with one batch in flight (a trace always uses the same one)",
  },
  maxTrackedSpans: {
    default: 200_000,
    min: 1,
    max: 100_000_000,
    flag: "max-tracked-spans",
    env: "TRACEHOUSE_OTLP_MAX_TRACKED_SPANS",
    doc: "spans remembered to resolve parents that arrive after their children; the oldest are forgotten",
  },
} as const;

export type ReceiverIntegerOption = keyof typeof RECEIVER_OPTIONS;

/** Client id of the receiver's own producer unless `producerOptions.clientId` says otherwise. */
export const DEFAULT_CLIENT_ID = "tracehouse-receiver";

/** Default listen address; loopback unless told otherwise. */
export const DEFAULT_HOST = "127.0.0.1";

export interface ReceiverOptions {
  /** Kafka brokers for the receiver's own producer. Required unless `producer` is given. */
  readonly brokers?: readonly string[];
  /** Further options of the receiver's own producer (clientId, topics, spool …). Default: the producer's defaults, clientId `tracehouse-receiver`. */
  readonly producerOptions?: Omit<ProducerOptions, "brokers" | "logger">;
  /** An existing producer to emit through instead (the receiver then neither creates nor closes it). */
  readonly producer?: Producer;
  /** Address both servers listen on. Default: `127.0.0.1`. */
  readonly host?: string;
  /** Default: 4318; `null` disables OTLP/HTTP. */
  readonly httpPort?: number | null;
  /** Default: 4317; `null` disables OTLP/gRPC. */
  readonly grpcPort?: number | null;
  /** Default: 16 MiB. */
  readonly maxRequestBytes?: number;
  /** Default: 100000. */
  readonly maxSpansPerRequest?: number;
  /** Default: 64. */
  readonly maxConcurrentRequests?: number;
  /** Default: 30000. */
  readonly requestTimeoutMs?: number;
  /** Default: 10000. */
  readonly ackTimeoutMs?: number;
  /** Default: 5. */
  readonly retryAfterSeconds?: number;
  /** Default: 200000. */
  readonly maxTrackedSpans?: number;
  /** Own producers to emit through (client ids `<clientId>-<n>` beyond the first). Default: 1. */
  readonly producers?: number;
  /** Default: a logger that drops everything. */
  readonly logger?: Logger;
}

export interface ReceiverConfig {
  readonly brokers: readonly string[];
  readonly producerOptions: Omit<ProducerOptions, "brokers" | "logger">;
  readonly producer: Producer | null;
  readonly host: string;
  readonly httpPort: number | null;
  readonly grpcPort: number | null;
  readonly maxRequestBytes: number;
  readonly maxSpansPerRequest: number;
  readonly maxConcurrentRequests: number;
  readonly requestTimeoutMs: number;
  readonly ackTimeoutMs: number;
  readonly retryAfterSeconds: number;
  readonly maxTrackedSpans: number;
  readonly producers: number;
  readonly logger: Logger;
}

function bounded(options: ReceiverOptions, name: ReceiverIntegerOption): number {
  const spec = RECEIVER_OPTIONS[name];
  const value = integerOption(options[name] ?? undefined, spec.default, name, spec.min);
  if (value > spec.max) throw new ConfigError(`${name} must be at most ${spec.max}, got ${value}`);
  return value;
}

function port(options: ReceiverOptions, name: "httpPort" | "grpcPort"): number | null {
  return options[name] === null ? null : bounded(options, name);
}

/** Resolves options into a complete, frozen config. Throws ConfigError on invalid or contradictory options. */
export function resolveReceiverConfig(options: ReceiverOptions): ReceiverConfig {
  if (
    options.producer !== undefined &&
    (options.brokers !== undefined || options.producerOptions !== undefined)
  ) {
    throw new ConfigError("give either producer or brokers/producerOptions, not both");
  }
  if (options.producer !== undefined && options.producers !== undefined && options.producers !== 1) {
    throw new ConfigError("producers applies to the receiver's own producers, not to a given producer");
  }
  if (options.producer === undefined && (options.brokers === undefined || options.brokers.length === 0)) {
    throw new ConfigError("brokers is required (at least one host:port) unless a producer is given");
  }
  const host = options.host ?? DEFAULT_HOST;
  if (typeof host !== "string" || host.trim() === "")
    throw new ConfigError("host must be a non-empty address");
  const httpPort = port(options, "httpPort");
  const grpcPort = port(options, "grpcPort");
  if (httpPort === null && grpcPort === null)
    throw new ConfigError("httpPort and grpcPort are both disabled: nothing to receive");
  if (httpPort !== null && httpPort !== 0 && httpPort === grpcPort) {
    throw new ConfigError(`httpPort and grpcPort are both ${httpPort}`);
  }
  return Object.freeze({
    brokers: Object.freeze([...(options.brokers ?? [])]),
    producerOptions: options.producerOptions ?? {},
    producer: options.producer ?? null,
    host,
    httpPort,
    grpcPort,
    maxRequestBytes: bounded(options, "maxRequestBytes"),
    maxSpansPerRequest: bounded(options, "maxSpansPerRequest"),
    maxConcurrentRequests: bounded(options, "maxConcurrentRequests"),
    requestTimeoutMs: bounded(options, "requestTimeoutMs"),
    ackTimeoutMs: bounded(options, "ackTimeoutMs"),
    retryAfterSeconds: bounded(options, "retryAfterSeconds"),
    maxTrackedSpans: bounded(options, "maxTrackedSpans"),
    producers: bounded(options, "producers"),
    logger: options.logger ?? noopLogger,
  });
}
