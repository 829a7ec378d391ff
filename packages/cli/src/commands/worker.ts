import { createSink } from "@tracehouse/clickhouse";
import { createWorker } from "@tracehouse/worker";
import type { Command } from "commander";
import { Option } from "commander";
import { ExitCode, addSchemaOptions, schemaOptionsFrom, valueSources } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { createCliLogger } from "../logger.js";
import {
  addClickHouseOptions,
  addKafkaOptions,
  addTuningOptions,
  integerOption,
  sinkOptionsFrom,
  workerOptionsFrom,
} from "../options.js";
import type { RawOptions } from "../options.js";
import { addPricesOption, pricesFrom } from "../prices.js";
import { addUiServerOptions, startUiFrom, uiPortFrom } from "../ui-options.js";
import { WORKER_DEFAULTS } from "@tracehouse/worker";

function waitForSignals(onSignal: (signal: NodeJS.Signals, count: number) => void): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals): void => {
    count += 1;
    onSignal(signal, count);
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
  return () => {
    process.off("SIGTERM", handler);
    process.off("SIGINT", handler);
  };
}

export function registerWorker(program: Command, _io: Io): void {
  const worker = program
    .command("worker")
    .alias("run")
    .description(
      "consume every record topic into ClickHouse as one member of the worker group; SIGTERM/SIGINT stop it gracefully (stop fetching, flush, commit, leave)",
    );
  addKafkaOptions(worker, `consumer group shared by all worker pods (default: "${WORKER_DEFAULTS.groupId}")`);
  worker.addOption(
    new Option(
      "--no-from-beginning",
      "a group without committed offsets starts at the end of the topics (default: at the earliest record)",
    ).env("TRACEHOUSE_NO_FROM_BEGINNING"),
  );
  addTuningOptions(worker);
  worker
    .optionsGroup("Health:")
    .addOption(
      new Option("--health-port <port>", '/healthz, /readyz and /metrics port; 0 picks one, "off" disables')
        .env("TRACEHOUSE_HEALTH_PORT")
        .default("9464"),
    )
    .addOption(
      new Option("--health-host <host>", "address the health server listens on")
        .env("TRACEHOUSE_HEALTH_HOST")
        .default(WORKER_DEFAULTS.healthHost),
    );
  worker
    .optionsGroup("Trace explorer:")
    .addOption(
      new Option(
        "--ui-port <port>",
        "also serve the trace explorer from this process (the embedded engine's data directory is held by one process); 0 picks a port (default: off)",
      ).env("TRACEHOUSE_UI_PORT"),
    );
  addUiServerOptions(worker);
  addPricesOption(worker);
  addSchemaOptions(worker);
  addClickHouseOptions(worker).action(async (raw: RawOptions, command: Command) => {
    const logger = createCliLogger(String(raw.logLevel));
    const uiPort = uiPortFrom(raw);
    const prices = uiPort === undefined ? null : pricesFrom(raw);
    const sinkOptions = sinkOptionsFrom(raw, valueSources(command), logger);
    // With the UI, one sink serves both: the worker writes through it, the UI reads through it.
    const shared = uiPort === undefined ? null : createSink(sinkOptions);
    const instance = createWorker({
      ...workerOptionsFrom(raw),
      fromBeginning: raw.fromBeginning !== false,
      schema: schemaOptionsFrom(raw),
      ...(shared === null ? { clickhouse: sinkOptions } : { sink: shared }),
      healthPort: raw.healthPort === "off" ? null : integerOption(raw, "healthPort", "health-port"),
      healthHost: typeof raw.healthHost === "string" ? raw.healthHost : undefined,
      logger,
    });
    const stopSignals = waitForSignals((signal, count) => {
      if (count > 1) {
        logger.error("second signal: exiting without flushing", { signal });
        logger.flush();
        process.exit(ExitCode.Interrupted);
      }
      logger.info("stopping: flushing and committing before leaving the group", { signal });
      void instance.stop();
    });
    let ui: Awaited<ReturnType<typeof startUiFrom>> | null = null;
    try {
      await instance.start();
      if (shared !== null && prices !== null && uiPort !== undefined) {
        ui = await startUiFrom(raw, shared, prices, logger, uiPort);
        logger.info("trace explorer listening", { url: `${ui.url}/traces` });
      }
      const address = instance.healthAddress();
      if (address !== null)
        logger.info("health server listening", { ...address, paths: ["/healthz", "/readyz", "/metrics"] });
      await instance.done;
      logger.info("worker stopped");
    } catch (error) {
      await instance.stop();
      throw error;
    } finally {
      stopSignals();
      await ui?.close();
      await shared?.close();
    }
  });
}
