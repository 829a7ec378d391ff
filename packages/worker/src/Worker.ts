import { resolveSinkConfig } from "@tracehouse/clickhouse";
import type { Registry } from "prom-client";
import { resolveWorkerConfig } from "./config.js";
import type { WorkerConfig, WorkerOptions } from "./config.js";
import { recordChain } from "./internal/Chain.js";
import { Consumption, ConsumptionState } from "./internal/Consumption.js";
import { startHealthServer } from "./internal/health-server.js";
import type { HealthServer, Probe } from "./internal/health-server.js";
import { checkKafka, kafkaClientFor, kafkaError } from "./internal/kafka-client.js";
import { openSink } from "./internal/open-sink.js";
import type { OpenedSink } from "./internal/open-sink.js";
import type { TopicPartitions } from "./internal/source.js";
import { WorkerMetrics } from "./internal/WorkerMetrics.js";

export const WorkerState = ConsumptionState;
export type WorkerState = ConsumptionState;

export interface WorkerStatus {
  readonly state: WorkerState;
  readonly groupId: string;
  /** True once the worker has joined its consumer group. */
  readonly joined: boolean;
  readonly assignment: readonly TopicPartitions[];
  readonly bufferedRows: number;
  readonly bufferedBytes: number;
  readonly pausedPartitions: number;
  /** True while an insert is failing and being retried. */
  readonly insertRetrying: boolean;
  readonly error: string | null;
}

/**
 * One member of the worker group: consumes the record topics, writes rows to ClickHouse,
 * commits after every insert, dead-letters poison records. Create it with {@link createWorker}.
 */
export class Worker {
  readonly config: WorkerConfig;
  readonly #metrics: WorkerMetrics;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;
  #rejectDone!: (error: unknown) => void;
  #consumption: Consumption | null = null;
  #sink: OpenedSink | null = null;
  #health: HealthServer | null = null;
  #started: Promise<void> | null = null;
  #stopped: Promise<void> | null = null;

  constructor(config: WorkerConfig) {
    this.config = config;
    this.#metrics = new WorkerMetrics(config.registry);
    this.#done = new Promise<void>((resolve, reject) => {
      this.#resolveDone = resolve;
      this.#rejectDone = reject;
    });
    this.#done.catch(() => undefined);
  }

  /** Prometheus registry holding the worker's metrics. */
  get registry(): Registry {
    return this.#metrics.registry;
  }

  /** Resolves when the worker stopped after `stop()`; rejects with the error that stopped it otherwise. */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Opens the sink (and applies migrations when configured), starts the health server, joins the group. */
  start(): Promise<void> {
    if (this.#stopped !== null) return Promise.reject(new Error("the worker was stopped"));
    this.#started ??= this.#start();
    return this.#started;
  }

  /** Graceful stop: stop fetching, insert and commit what was fetched, leave the group, close the sink. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      if (this.#started === null) {
        this.#resolveDone();
        return;
      }
      await this.#started.catch(() => undefined);
      await this.#consumption?.stop();
      await this.#done.catch(() => undefined);
    })();
    return this.#stopped;
  }

  status(): WorkerStatus {
    const consumption = this.#consumption;
    const stats = consumption?.stats();
    return {
      state:
        consumption?.state ?? (this.#started === null ? ConsumptionState.Idle : ConsumptionState.Starting),
      groupId: this.config.groupId,
      joined: consumption?.joined ?? false,
      assignment: consumption?.assignment() ?? [],
      bufferedRows: stats?.bufferedRows ?? 0,
      bufferedBytes: stats?.bufferedBytes ?? 0,
      pausedPartitions: stats?.pausedPartitions ?? 0,
      insertRetrying: stats?.insertRetrying ?? false,
      error: consumption?.error?.message ?? null,
    };
  }

  /** Where the health server listens, once started; null when it is disabled. */
  healthAddress(): { readonly host: string; readonly port: number } | null {
    return this.#health === null ? null : { host: this.#health.host, port: this.#health.port };
  }

  async #start(): Promise<void> {
    const { config } = this;
    try {
      if (config.healthPort !== null) {
        this.#health = await startHealthServer(
          config.healthHost,
          config.healthPort,
          { live: () => this.#live(), ready: () => this.#ready() },
          this.#metrics.registry,
        );
      }
      this.#sink = await openSink(config);
      await checkKafka(config);
      const { sink } = this.#sink;
      const kafka = kafkaClientFor(config);
      const consumption = new Consumption({
        config,
        kafka,
        metrics: this.#metrics,
        groupId: config.groupId,
        chain: recordChain(config, kafka, sink, this.#metrics),
      });
      this.#consumption = consumption;
      consumption.done.then(
        () => this.#release().then(() => this.#resolveDone()),
        (error: unknown) => this.#release().then(() => this.#rejectDone(error)),
      );
      await consumption.start().catch((error: unknown) => Promise.reject(kafkaError(error)));
      config.logger.info("worker started", {
        kafka: config.security.summary,
        groupId: config.groupId,
        topics: config.topics,
        sink: sink.kind,
        database: sink.database,
      });
    } catch (error) {
      if (this.#consumption === null) {
        await this.#release();
        this.#rejectDone(error);
      }
      throw error;
    }
  }

  async #release(): Promise<void> {
    const sink = this.#sink;
    const health = this.#health;
    this.#health = null;
    this.#sink = null;
    await sink?.release();
    if (health !== null) await health.close();
  }

  #live(): Probe {
    const state = this.status().state;
    return { ok: state !== ConsumptionState.Failed, state, error: this.#consumption?.error?.message ?? null };
  }

  #ready(): Probe {
    const status = this.status();
    return {
      ok: status.state === ConsumptionState.Running && status.joined && !status.insertRetrying,
      state: status.state,
      joined: status.joined,
      insertRetrying: status.insertRetrying,
      pausedPartitions: status.pausedPartitions,
      bufferedRows: status.bufferedRows,
    };
  }
}

/** A worker from options; throws ConfigError for invalid or contradictory options. Call `start()` to run it. */
export function createWorker(options: WorkerOptions = {}): Worker {
  const config = resolveWorkerConfig(options);
  if (config.sink === null) resolveSinkConfig(config.clickhouse);
  return new Worker(config);
}
