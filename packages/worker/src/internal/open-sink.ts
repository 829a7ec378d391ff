import { ClickHouseTraceSchema, createSink, throughDistributed } from "@tracehouse/clickhouse";
import type { Sink } from "@tracehouse/clickhouse";
import type { WorkerConfig } from "../config.js";

export interface OpenedSink {
  readonly sink: Sink;
  /** Closes the sink when the worker opened it; an injected sink stays open. */
  release(): Promise<void>;
}

/**
 * The configured sink (injected, or opened from the ClickHouse options), migrated when asked to; in
 * cluster mode its inserts go through the Distributed tables.
 */
export async function openSink(config: WorkerConfig): Promise<OpenedSink> {
  const owned = config.sink === null;
  const sink =
    config.sink ??
    // The worker owns the retries of its inserts: its own sink never retries (no retry inside a retry).
    createSink({ ...config.clickhouse, maxRetries: 0, logger: config.clickhouse.logger ?? config.logger });
  const release = async (): Promise<void> => {
    if (!owned) return;
    await sink
      .close()
      .catch((error: unknown) => config.logger.warn("sink close failed", { error: String(error) }));
  };
  if (config.createTables) {
    try {
      const report = await new ClickHouseTraceSchema(sink, {
        ...config.schema,
        logger: config.logger,
      }).createTables();
      config.logger.info("migrations applied", { applied: report.applied, database: sink.database });
    } catch (error) {
      await release();
      throw error;
    }
  }
  // In cluster mode rows go to the Distributed tables, which shard them by trace id.
  return { sink: throughDistributed(sink, config.schema.cluster), release };
}
