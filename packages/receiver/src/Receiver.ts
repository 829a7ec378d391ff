import type { AddressInfo } from "node:net";
import type http from "node:http";
import * as grpc from "@grpc/grpc-js";
import { TracehouseError } from "@tracehouse/schemas";
import { createProducer } from "@tracehouse/producer";
import type { Producer } from "@tracehouse/producer";
import { DEFAULT_CLIENT_ID, resolveReceiverConfig } from "./config.js";
import type { ReceiverConfig, ReceiverOptions } from "./config.js";
import { createGrpcServer } from "./internal/grpc-server.js";
import { createHttpServer } from "./internal/http-server.js";
import { Ingest } from "./internal/Ingest.js";
import type { ReceiverStats } from "./internal/StageClock.js";

export interface ReceiverAddresses {
  /** `http://host:port` of OTLP/HTTP (POST /v1/traces), or null when disabled. */
  readonly http: string | null;
  /** `host:port` of OTLP/gRPC, or null when disabled. */
  readonly grpc: string | null;
}

const urlHost = (host: string): string => (host.includes(":") ? `[${host}]` : host);

/**
 * An OTLP trace receiver: OTLP/HTTP and OTLP/gRPC in, tracehouse records out through a
 * producer. Create it with {@link createReceiver}, then `start()`; `stop()` closes the
 * listeners, lets running requests finish and closes the producer it created.
 */
export class Receiver {
  readonly config: ReceiverConfig;
  /** The producers records are emitted through (one unless `producers` says more). */
  readonly producers: readonly Producer[];
  readonly #ownsProducer: boolean;
  readonly #ingest: Ingest;
  #http: http.Server | null = null;
  #grpc: grpc.Server | null = null;
  #httpPort: number | null = null;
  #grpcPort: number | null = null;
  #stopped: Promise<void> | null = null;

  constructor(options: ReceiverOptions) {
    this.config = resolveReceiverConfig(options);
    this.#ownsProducer = this.config.producer === null;
    const given = this.config.producer;
    this.producers = given !== null ? [given] : this.#createProducers();
    this.#ingest = new Ingest(this.producers, this.config);
  }

  #createProducers(): Producer[] {
    const { producerOptions, brokers, logger, producers } = this.config;
    const clientId = producerOptions.clientId ?? DEFAULT_CLIENT_ID;
    const created: Producer[] = [];
    try {
      for (let lane = 0; lane < producers; lane++) {
        const suffix = lane === 0 ? "" : `-${lane}`;
        const spool = producerOptions.spool;
        created.push(
          createProducer({
            ...producerOptions,
            clientId: clientId + suffix,
            // each producer locks its own spool directory
            ...(spool !== undefined && spool !== false && spool.dir !== undefined
              ? { spool: { ...spool, dir: spool.dir + suffix } }
              : {}),
            brokers,
            logger,
          }),
        );
      }
    } catch (error) {
      for (const producer of created) void producer.close({ timeoutMs: 0 });
      throw error;
    }
    return created;
  }

  /** Export requests being processed now. */
  get inFlight(): number {
    return this.#ingest.inFlight;
  }

  /** Requests, spans and records so far, and what each stage of the receiver has cost. */
  stats(): ReceiverStats {
    return this.#ingest.clock.stats();
  }

  async start(): Promise<void> {
    const { host, httpPort, grpcPort } = this.config;
    try {
      if (httpPort !== null) {
        const server = createHttpServer(this.#ingest, this.config);
        this.#http = server;
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(httpPort, host, () => {
            server.off("error", reject);
            resolve();
          });
        });
        this.#httpPort = (server.address() as AddressInfo).port;
      }
      if (grpcPort !== null) {
        const server = createGrpcServer(this.#ingest, this.config);
        this.#grpc = server;
        this.#grpcPort = await new Promise<number>((resolve, reject) => {
          server.bindAsync(
            `${urlHost(host)}:${grpcPort}`,
            grpc.ServerCredentials.createInsecure(),
            (error, port) => (error === null ? resolve(port) : reject(error)),
          );
        });
      }
    } catch (error) {
      await this.stop();
      throw new TracehouseError(
        `the receiver cannot listen on ${host}: ${error instanceof Error ? error.message : String(error)}`,
        {
          retriable: false,
          cause: error,
        },
      );
    }
    this.config.logger.info("otlp receiver listening", { ...this.addresses() });
  }

  addresses(): ReceiverAddresses {
    const host = urlHost(this.config.host);
    return {
      http: this.#httpPort === null ? null : `http://${host}:${this.#httpPort}`,
      grpc: this.#grpcPort === null ? null : `${host}:${this.#grpcPort}`,
    };
  }

  /** Stops listening, waits for running requests (up to `timeoutMs`), closes an own producer. Idempotent. */
  stop(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    this.#stopped ??= this.#stop(options.timeoutMs ?? this.config.ackTimeoutMs);
    return this.#stopped;
  }

  async #stop(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const httpServer = this.#http;
    const closing: Promise<void>[] = [];
    if (httpServer !== null) {
      closing.push(new Promise((resolve) => httpServer.close(() => resolve())));
      httpServer.closeIdleConnections();
    }
    const grpcServer = this.#grpc;
    if (grpcServer !== null) closing.push(new Promise((resolve) => grpcServer.tryShutdown(() => resolve())));
    const timer = new Promise<void>((resolve) =>
      setTimeout(resolve, Math.max(0, deadline - Date.now())).unref(),
    );
    await Promise.race([Promise.all(closing), timer]);
    httpServer?.closeAllConnections();
    grpcServer?.forceShutdown();
    if (this.#ownsProducer) {
      const timeoutMs = Math.max(1000, deadline - Date.now());
      await Promise.all(this.producers.map((producer) => producer.close({ timeoutMs })));
    }
  }
}

/** Creates a receiver (not yet listening). Throws ConfigError on invalid options. */
export function createReceiver(options: ReceiverOptions): Receiver {
  return new Receiver(options);
}
