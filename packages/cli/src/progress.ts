import type { Logger } from "@tracehouse/schemas";
import cliProgress from "cli-progress";
import type { ReplayProgress } from "@tracehouse/worker";
import { formatDuration } from "./trace-tree.js";

export const ProgressMode = { Bar: "bar", Log: "log", None: "none" } as const;
export type ProgressMode = (typeof ProgressMode)[keyof typeof ProgressMode];

export interface ProgressReporter {
  update(progress: ReplayProgress): void;
  stop(): void;
}

function eta(progress: ReplayProgress): string {
  return progress.etaSeconds === null ? "?" : formatDuration(progress.etaSeconds * 1000);
}

/** Replay (or redrive) progress: a bar on a terminal, a log line every `logEveryMs` otherwise. */
export function createProgressReporter(
  mode: ProgressMode,
  logger: Logger,
  logEveryMs = 5000,
  label = "replay",
): ProgressReporter {
  if (mode === ProgressMode.None) return { update: () => undefined, stop: () => undefined };
  if (mode === ProgressMode.Log) {
    let lastAt = 0;
    return {
      update(progress) {
        const now = Date.now();
        if (now - lastAt < logEveryMs && progress.records < progress.total) return;
        lastAt = now;
        logger.info(`${label} progress`, {
          records: progress.records,
          total: progress.total,
          percent: progress.total === 0 ? 100 : Math.floor((progress.records * 100) / progress.total),
          recordsPerSecond: Math.round(progress.recordsPerSecond),
          eta: eta(progress),
          partitionsDone: progress.partitionsDone,
          partitions: progress.partitions,
        });
      },
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} |{bar}| {percentage}% · {value}/{total} records · {rate}/s · ETA {etaText} · {done}/{partitions} partitions`,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 1,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(progress) {
      const payload = {
        rate: Math.round(progress.recordsPerSecond),
        etaText: eta(progress),
        done: progress.partitionsDone,
        partitions: progress.partitions,
      };
      if (!started) {
        bar.start(progress.total, progress.records, payload);
        started = true;
      } else {
        bar.setTotal(progress.total);
        bar.update(progress.records, payload);
      }
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
