import { directFetchRecords } from "@tracehouse/producer";
import { checkKafkaTls, securityErrorOf } from "@tracehouse/schemas";
import type { Logger } from "@tracehouse/schemas";
import { Kafka, logLevel } from "kafkajs";
import type { LogEntry } from "kafkajs";
import type { WorkerConfig } from "../config.js";
import { ensureReadCodecs } from "./read-codecs.js";

/** kafkajs logs through the injected logger; its INFO chatter (joins, pauses) goes to debug. */
function logCreator(logger: Logger) {
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
      const entry = { ...fields, namespace };
      if (level === logLevel.ERROR || level === logLevel.NOTHING) logger.error(message, entry);
      else if (level === logLevel.WARN) logger.warn(message, entry);
      else logger.debug(message, entry);
    };
}

/**
 * The worker's Kafka client. Producers may compress with lz4 (the producer's `compression` option),
 * zstd or snappy, which kafkajs cannot read by itself: the codecs are registered first
 * (`ensureReadCodecs`), or the fetch that holds such a batch fails again on every retry and the
 * worker stops advancing. Fetched records are decoded by the producer package's replacement of
 * kafkajs's record decoder (`directFetchRecords`, installed when that package is imported, before
 * any fetch); when the application's kafkajs fetched first, kafkajs keeps its own, only slower.
 */
export function kafkaClientFor(config: WorkerConfig, clientId: string = config.clientId): Kafka {
  ensureReadCodecs();
  if (directFetchRecords !== "installed")
    config.logger.debug("kafkajs decodes fetched records itself", { directFetchRecords });
  if (config.kafka !== null) return config.kafka;
  return new Kafka({
    ...config.kafkaConfig,
    ...config.security.clientOptions(),
    clientId,
    brokers: [...config.brokers],
    logLevel: logLevel.INFO,
    logCreator: logCreator(config.logger),
  });
}

/**
 * A TLS handshake with the bootstrap brokers before the worker's clients connect: kafkajs retries a
 * refused certificate like an outage, for many seconds; this throws a SecurityError at once.
 */
export async function checkKafka(config: WorkerConfig): Promise<void> {
  if (config.kafka === null) await checkKafkaTls(config.brokers, config.security);
}

/** A refused login or handshake as a SecurityError; any other error unchanged. */
export function kafkaError(error: unknown): unknown {
  return securityErrorOf(error, "kafka") ?? error;
}

/** Deletes a throwaway consumer group (best effort: a group that cannot be deleted expires on its own). */
export async function deleteGroup(kafka: Kafka, groupId: string): Promise<void> {
  const admin = kafka.admin();
  await admin
    .connect()
    .then(() => admin.deleteGroups([groupId]))
    .catch(() => undefined)
    .finally(() => admin.disconnect());
}
