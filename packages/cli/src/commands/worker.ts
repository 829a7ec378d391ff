import { createSink } from "@tracehouse/clickhouse";
import { WORKER_DEFAULTS, createWorker } from "@tracehouse/worker";
import type { Command } from "commander";
import { ExitCode, addClickHouseOptions, loggerFrom } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { SCHEMA, schemaOptionsFrom, sinkOptionsFrom } from "../options/clickhouse.js";
import { addOptions, readOptions, valueSources } from "../options/spec.js";
import type { RawOptions } from "../options/spec.js";
import {
  PRICES,
  addUiServerOptions,
  WORKER_UI_PORT,
  pricesFrom,
  startUi,
  uiSettingsFrom,
} from "../options/ui.js";
import {
  HEALTH,
  WORKER_START,
  addKafkaOptions,
  addTuningOptions,
  workerOptionsFrom,
} from "../options/worker.js";

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
  addKafkaOptions(worker, {
    doc: "consumer group shared by all worker pods",
    defaultText: JSON.stringify(WORKER_DEFAULTS.groupId),
  });
  addOptions(worker, WORKER_START);
  addTuningOptions(worker);
  addOptions(worker, HEALTH);
  addOptions(worker, WORKER_UI_PORT);
  addUiServerOptions(worker);
  addOptions(worker, PRICES);
  addOptions(worker, SCHEMA);
  addClickHouseOptions(worker).action(async (raw: RawOptions, command: Command) => {
    const logger = loggerFrom(raw);
    const sources = valueSources(command);
    const uiSettings = uiSettingsFrom(raw, sources, WORKER_UI_PORT);
    const prices = uiSettings === null ? null : pricesFrom(raw, sources);
    const { healthPort, healthHost } = readOptions(HEALTH, raw, sources);
    const { fromBeginning } = readOptions(WORKER_START, raw, sources);
    const options = workerOptionsFrom(raw, process.env, sources);
    const schema = schemaOptionsFrom(raw, sources);
    const sinkOptions = sinkOptionsFrom(raw, sources, logger);
    // With the UI, one sink serves both: the worker writes through it, the UI reads through it. The worker
    // retries its inserts itself, so this sink makes one attempt per call (no retry inside a retry).
    const shared = uiSettings === null ? null : createSink({ ...sinkOptions, maxRetries: 0 });
    const instance = createWorker({
      ...options,
      fromBeginning,
      schema,
      ...(shared === null ? { clickhouse: sinkOptions } : { sink: shared }),
      healthPort,
      healthHost,
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
    let ui: Awaited<ReturnType<typeof startUi>> | null = null;
    try {
      await instance.start();
      if (shared !== null && prices !== null && uiSettings !== null) {
        ui = await startUi(uiSettings, shared, prices, logger);
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
