import type { Logger } from "@tracehouse/schemas";
import { Kafka, logLevel } from "kafkajs";
import type { LogEntry } from "kafkajs";
import type { WorkerConfig } from "../config.js";

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

export function kafkaClientFor(config: WorkerConfig, clientId: string = config.clientId): Kafka {
  if (config.kafka !== null) return config.kafka;
  return new Kafka({
    ...config.kafkaConfig,
    clientId,
    brokers: [...config.brokers],
    logLevel: logLevel.INFO,
    logCreator: logCreator(config.logger),
  });
}
