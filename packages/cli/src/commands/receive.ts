import { createTopicCatalogue } from "@tracehouse/schemas";
import { createReceiver } from "@tracehouse/receiver";
import type { ReceiverOptions } from "@tracehouse/receiver";
import type { Command } from "commander";
import { ExitCode, loggerFrom } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { LOGGING } from "../options/clickhouse.js";
import { LISTENERS, RECEIVER_KAFKA, SPOOL } from "../options/receiver.js";
import { addOptions, readOptions, valueSources } from "../options/spec.js";
import type { RawOptions } from "../options/spec.js";

export function registerReceive(program: Command, _io: Io): void {
  const receive = program
    .command("receive")
    .description(
      "OTLP trace receiver: OTLP/HTTP (POST /v1/traces, protobuf or JSON, gzip) and OTLP/gRPC in, tracehouse records out to Kafka; SIGTERM/SIGINT stop it after running requests are answered",
    );
  for (const table of [LISTENERS, RECEIVER_KAFKA, SPOOL, LOGGING]) addOptions(receive, table);
  receive.action(async (raw: RawOptions, command: Command) => {
    const logger = loggerFrom(raw);
    const sources = valueSources(command);
    const listeners: Partial<ReceiverOptions> = readOptions(LISTENERS, raw, sources);
    const { brokers, clientId, topicPrefix } = readOptions(RECEIVER_KAFKA, raw, sources);
    const { spool, spoolDir } = readOptions(SPOOL, raw, sources);
    const receiver = createReceiver({
      ...listeners,
      brokers,
      producerOptions: {
        clientId,
        topics: createTopicCatalogue({ prefix: topicPrefix }),
        spool: !spool ? false : spoolDir === undefined ? {} : { dir: spoolDir },
      },
      logger,
    });
    let signals = 0;
    let stopped: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (stopped = resolve));
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      if (signals > 1) {
        logger.error("second signal: exiting without waiting for running requests", { signal });
        logger.flush();
        process.exit(ExitCode.Interrupted);
      }
      logger.info("stopping: answering running requests, then closing the producer", { signal });
      void receiver.stop().then(stopped);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    try {
      await receiver.start();
      await done;
      logger.info("receiver stopped");
    } finally {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      await receiver.stop();
    }
  });
}
