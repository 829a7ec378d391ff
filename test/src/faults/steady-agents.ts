import path from "node:path";
import type { AgentRunOptions } from "../load/protocol.js";

/**
 * The fault runs' load: eight agents emitting `rate` records/s until stopped, every accepted id in
 * `idsFile`, the spool in `<scratch>/spool`.
 */
export function steadyAgents(
  options: Pick<AgentRunOptions, "brokers" | "topicPrefix" | "rate" | "idsFile" | "progressEveryMs"> & {
    readonly runId: string;
    readonly scratch: string;
  },
): AgentRunOptions {
  const { runId, scratch, ...rest } = options;
  return {
    ...rest,
    clientId: `${runId}_agents`,
    spoolDir: path.join(scratch, "spool"),
    traces: null,
    durationMs: null,
    eventsPerTrace: 8,
    agents: 8,
    sentinelEvery: 0,
    compression: "gzip",
    closeTimeoutMs: 60_000,
  };
}
