import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClickHouseTraceSchema, createSink, TraceQueries } from "@tracehouse/clickhouse";
import type { MigrationReport, Sink } from "@tracehouse/clickhouse";
import type { ProducerOptions } from "@tracehouse/producer";
import type { TopicCatalogue } from "@tracehouse/schemas";
import { uniqueName, useClickHouse, useKafka } from "@tracehouse/testkit";
import type { Worker, WorkerOptions } from "@tracehouse/worker";
import { Kafka, logLevel } from "kafkajs";
import { consumerLag, waitUntilCommitted } from "./lag.js";
import type { ConsumerLag } from "./lag.js";
import { QueryableWatch, waitUntilQueryable } from "./queryable.js";
import type { QueryableOptions, RecordRef } from "./queryable.js";
import { RecordingProducer } from "./RecordingProducer.js";
import type { EmittedRecord } from "./RecordingProducer.js";
import { createCatalogueTopics, deleteCatalogueTopics } from "./topics.js";
import { startWorker } from "./worker.js";

export interface PipelineOptions {
  /** Start of the unique topic prefix, consumer group and database names. Default: `"e2e"`. */
  readonly name?: string;
  /** Topic name prefix. Default: unique, from `name`. */
  readonly topicPrefix?: string;
  /** Database of the tracehouse tables. Default: unique, from `name`. */
  readonly database?: string;
  /** Drop `database` before migrating, for a fixed name reused across runs. Default: false. */
  readonly resetDatabase?: boolean;
  /**
   * Embedded engine data directory. Default: what testkit provides for this process (a ClickHouse
   * server from the environment or Docker, else its embedded data directory).
   */
  readonly dataDir?: string;
  /** Partitions of every topic; null keeps the catalogue's recommended partitions. Default: 3. */
  readonly partitions?: number | null;
  /** Bootstrap brokers, e.g. the three-node cluster's. Default: testkit's broker (`useKafka`). */
  readonly brokers?: readonly string[];
  /** Replicas of every topic, and topic settings such as min.insync.replicas. Default: 1, none. */
  readonly replicationFactor?: number;
  readonly topicConfig?: readonly { readonly name: string; readonly value: string }[];
  /** Worker options beyond brokers, topics, group and sink. Default: `{ flushIntervalMs: 200 }`. */
  readonly worker?: Omit<WorkerOptions, "brokers" | "kafka" | "topicPrefix" | "sink" | "clickhouse">;
  /** Keep the topics and the consumer group at close. Default: false. */
  readonly keepTopics?: boolean;
  /** Keep the database at close, for inspection. Default: false. */
  readonly keepDatabase?: boolean;
}

/** How long each setup step took, in ms. */
export interface PipelineSetup {
  readonly topicsMs: number;
  readonly migrationsMs: number;
  readonly migrations: MigrationReport;
  readonly workerStartMs: number;
}

export type PipelineProducerOptions = Omit<ProducerOptions, "brokers" | "kafka" | "topics">;

/** Real topics, a migrated database and a running worker; producers made on demand. */
export interface Pipeline {
  readonly brokers: readonly string[];
  /** A quiet kafkajs client on the brokers. */
  readonly kafka: Kafka;
  readonly catalogue: TopicCatalogue;
  readonly database: string;
  /** The sink the worker writes through. */
  readonly sink: Sink;
  /**
   * A second sink on the same database for reads: the embedded engine runs one call at a time per
   * sink, so reads through it do not queue behind (or hold up) the worker's inserts.
   */
  readonly monitor: Sink;
  /** Trace queries through `monitor`. */
  readonly queries: TraceQueries;
  readonly groupId: string;
  readonly worker: Worker;
  readonly setup: PipelineSetup;
  /**
   * A recording producer on the pipeline's topics, with a spool directory of its own (removed at
   * close) and no logging unless given. Closed by `close()`.
   */
  createProducer(options?: PipelineProducerOptions): RecordingProducer;
  /** Every record accepted by this pipeline's producers so far. */
  emitted(): EmittedRecord[];
  /**
   * Watches for every record the pipeline's producers emitted and will emit, polling ClickHouse in the
   * background until stopped: its `seenAt` times measure emit → queryable latency. Stopped by `close()`.
   */
  watchQueryable(options?: Pick<QueryableOptions, "intervalMs">): QueryableWatch;
  /**
   * Waits until `records` (default: every record emitted so far) can be read from ClickHouse, and the
   * inserts that stored them have finished (every materialized view they feed is written too).
   */
  waitUntilQueryable(
    records?: readonly RecordRef[],
    options?: QueryableOptions,
  ): Promise<ReadonlyMap<string, number>>;
  /** The worker group's lag on the record topics. */
  lag(): Promise<ConsumerLag>;
  /** Closes the producers, stops the worker, removes topics, group and database (unless kept), closes the sink. */
  close(): Promise<void>;
}

async function openSink(options: PipelineOptions, database: string): Promise<Sink> {
  if (options.dataDir !== undefined) return createSink({ dataDir: options.dataDir, database });
  const service = await useClickHouse();
  return service.url === undefined
    ? createSink({ dataDir: service.dataDir, database })
    : createSink({ url: service.url, username: service.username, password: service.password, database });
}

/** Sets up a pipeline: topics of a unique catalogue, the tracehouse schema in its database, a worker that has joined. */
export async function openPipeline(options: PipelineOptions = {}): Promise<Pipeline> {
  const name = options.name ?? "e2e";
  const brokers = options.brokers ?? (await useKafka()).brokers;
  const kafka = new Kafka({
    clientId: uniqueName(`${name}-admin`),
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
  });
  const topicPrefix = options.topicPrefix ?? `${uniqueName(name)}.`;
  const database = options.database ?? uniqueName(name);
  const groupId = options.worker?.groupId ?? uniqueName(`${name}-worker`);

  let started = performance.now();
  const catalogue = await createCatalogueTopics(kafka, {
    prefix: topicPrefix,
    partitions: options.partitions === null ? undefined : (options.partitions ?? 3),
    replicationFactor: options.replicationFactor,
    configEntries: options.topicConfig,
  });
  const topicsMs = performance.now() - started;

  const cleanups: (() => Promise<void>)[] = [];
  const cleanUp = async (): Promise<void> => {
    let failure: unknown = null;
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== null) throw failure;
  };
  if (options.keepTopics !== true) cleanups.push(() => deleteCatalogueTopics(kafka, catalogue));

  try {
    const sink = await openSink(options, database);
    cleanups.push(() => sink.close());
    const monitor = await openSink(options, database);
    cleanups.push(() => monitor.close());
    started = performance.now();
    if (options.resetDatabase === true) await sink.command(`DROP DATABASE IF EXISTS ${database} SYNC`);
    const migrations = await new ClickHouseTraceSchema(sink).createTables();
    const migrationsMs = performance.now() - started;
    if (options.keepDatabase !== true)
      cleanups.push(() => sink.command(`DROP DATABASE IF EXISTS ${database} SYNC`));

    started = performance.now();
    const worker = await startWorker({
      flushIntervalMs: 200,
      ...options.worker,
      brokers,
      topicPrefix,
      groupId,
      sink,
    });
    const workerStartMs = performance.now() - started;
    if (options.keepTopics !== true) {
      cleanups.push(async () => {
        const admin = kafka.admin();
        await admin.connect();
        try {
          await admin.deleteGroups([groupId]);
        } finally {
          await admin.disconnect();
        }
      });
    }
    cleanups.push(() => worker.stop());

    const producers: RecordingProducer[] = [];
    const watches = new Set<QueryableWatch>();
    const recordTopics = catalogue.all.filter((spec) => spec.recordType !== null).map((spec) => spec.name);
    let closed: Promise<void> | null = null;
    return {
      brokers,
      kafka,
      catalogue,
      database,
      sink,
      monitor,
      queries: new TraceQueries(monitor),
      groupId,
      worker,
      setup: { topicsMs, migrationsMs, migrations, workerStartMs },
      createProducer(producerOptions = {}) {
        const spoolDir = mkdtempSync(join(tmpdir(), "tracehouse-e2e-spool-"));
        const producer = new RecordingProducer({
          clientId: uniqueName(`${name}-producer`),
          spool: { dir: spoolDir },
          ...producerOptions,
          brokers: [...brokers],
          topics: catalogue,
        });
        producers.push(producer);
        producer.subscribe((record) => {
          for (const watch of watches) watch.add([record]);
        });
        cleanups.push(async () => {
          await producer.close();
          rmSync(spoolDir, { recursive: true, force: true });
        });
        return producer;
      },
      emitted: () => producers.flatMap((producer) => producer.emitted),
      watchQueryable(watchOptions) {
        const watch = new QueryableWatch(monitor, watchOptions);
        for (const producer of producers) watch.add(producer.emitted);
        watches.add(watch);
        cleanups.push(async () => {
          watches.delete(watch);
          await watch.stop();
        });
        return watch;
      },
      async waitUntilQueryable(records, queryOptions) {
        const seen = await waitUntilQueryable(
          monitor,
          records ?? producers.flatMap((p) => p.emitted),
          queryOptions,
        );
        await waitUntilCommitted(kafka, groupId, recordTopics, queryOptions);
        return seen;
      },
      lag: () => consumerLag(kafka, groupId, recordTopics),
      close() {
        closed ??= cleanUp();
        return closed;
      },
    };
  } catch (error) {
    await cleanUp().catch(() => undefined);
    throw error;
  }
}
