import { createTopicCatalogue } from "@tracehouse/schemas";
import { createReceiver, DEFAULT_HOST, RECEIVER_OPTIONS } from "@tracehouse/receiver";
import type { ReceiverIntegerOption, ReceiverOptions } from "@tracehouse/receiver";
import type { Command } from "commander";
import { Option } from "commander";
import { ExitCode } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { createCliLogger } from "../logger.js";
import { integerOption, listOption } from "../options.js";
import type { RawOptions } from "../options.js";

const DEFAULT_BROKERS = "127.0.0.1:9092";

function portOption(raw: RawOptions, name: "httpPort" | "grpcPort"): number | null | undefined {
  return raw[name] === "off" ? null : integerOption(raw, name, RECEIVER_OPTIONS[name].flag);
}

export function registerReceive(program: Command, _io: Io): void {
  const receive = program
    .command("receive")
    .description(
      "OTLP trace receiver: OTLP/HTTP (POST /v1/traces, protobuf or JSON, gzip) and OTLP/gRPC in, tracehouse records out to Kafka; SIGTERM/SIGINT stop it after running requests are answered",
    )
    .optionsGroup("Listeners:")
    .addOption(
      new Option("--host <address>", `address both listeners bind (default: "${DEFAULT_HOST}")`).env(
        "TRACEHOUSE_OTLP_HOST",
      ),
    );
  for (const [name, spec] of Object.entries(RECEIVER_OPTIONS)) {
    const off = name === "httpPort" || name === "grpcPort" ? '; "off" disables it' : "";
    receive.addOption(
      new Option(`--${spec.flag} <n>`, `${spec.doc}${off} (default: ${spec.default})`).env(spec.env),
    );
  }
  receive
    .optionsGroup("Kafka:")
    .addOption(
      new Option(
        "--brokers <list>",
        `comma-separated bootstrap brokers, host:port (default: "${DEFAULT_BROKERS}")`,
      ).env("KAFKA_BROKERS"),
    )
    .addOption(
      new Option("--client-id <id>", 'Kafka client id (default: "tracehouse-receiver")').env(
        "TRACEHOUSE_CLIENT_ID",
      ),
    )
    .addOption(
      new Option(
        "--topic-prefix <prefix>",
        'prefix of the catalogue\'s topic names (default: "tracehouse.")',
      ).env("TRACEHOUSE_TOPIC_PREFIX"),
    )
    .addOption(
      new Option(
        "--spool-dir <dir>",
        "the producer's on-disk spool for Kafka outages, one directory per receiver process (default: <tmpdir>/tracehouse-spool/<client id>)",
      ).env("TRACEHOUSE_SPOOL_DIR"),
    )
    .addOption(
      new Option("--no-spool", "no on-disk spool: while Kafka is down every request gets 503").env(
        "TRACEHOUSE_NO_SPOOL",
      ),
    )
    .optionsGroup("Logging:")
    .addOption(
      new Option("--log-level <level>", "log level of the JSON lines on stderr")
        .choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
        .default("info")
        .env("TRACEHOUSE_LOG_LEVEL"),
    )
    .action(async (raw: RawOptions) => {
      const logger = createCliLogger(String(raw.logLevel));
      const options: Record<string, unknown> = {};
      for (const name of Object.keys(RECEIVER_OPTIONS) as ReceiverIntegerOption[]) {
        const value =
          name === "httpPort" || name === "grpcPort"
            ? portOption(raw, name)
            : integerOption(raw, name, RECEIVER_OPTIONS[name].flag);
        if (value !== undefined) options[name] = value;
      }
      const clientId = typeof raw.clientId === "string" ? raw.clientId : "tracehouse-receiver";
      const receiver = createReceiver({
        ...(options as Partial<ReceiverOptions>),
        ...(typeof raw.host === "string" ? { host: raw.host } : {}),
        brokers: listOption(raw, "brokers") ?? [DEFAULT_BROKERS],
        producerOptions: {
          clientId,
          ...(typeof raw.topicPrefix === "string"
            ? { topics: createTopicCatalogue({ prefix: raw.topicPrefix }) }
            : {}),
          spool: raw.spool === false ? false : typeof raw.spoolDir === "string" ? { dir: raw.spoolDir } : {},
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
