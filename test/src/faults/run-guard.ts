import { constants } from "node:os";

export interface RunGuardOptions {
  /** Names the run in messages. */
  readonly name: string;
  /** When the run overruns `timeoutMs` by `graceMs`, it is stopped as if interrupted. */
  readonly timeoutMs: number;
  /** Default: 60 000. */
  readonly graceMs?: number;
  /** How long cleanup may take before the process exits anyway. Default: 90 000. */
  readonly cleanupTimeoutMs?: number;
}

export interface RunGuard {
  /** What stops everything the run started; runs once, whoever asks first. */
  setCleanup(cleanup: () => Promise<void>): void;
  /** Runs the cleanup (once) and resolves when it is done; rejections are reported, not thrown. */
  cleanup(): Promise<void>;
  /** Removes the signal handlers and the watchdog. */
  dispose(): void;
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Makes sure a fault run never leaves brokers or child processes behind: on SIGINT, SIGTERM or
 * SIGHUP, or when the run overruns its timeout (a wait that does not return), the cleanup runs
 * once and the process exits (128 + the signal's number, or 1 on a timeout). A second signal
 * while cleaning up is reported and ignored, so that the cleanup can finish.
 */
export function guardRun(options: RunGuardOptions): RunGuard {
  const graceMs = options.graceMs ?? 60_000;
  const cleanupTimeoutMs = options.cleanupTimeoutMs ?? 90_000;
  let cleanupFn: () => Promise<void> = () => Promise.resolve();
  let running: Promise<void> | null = null;

  const cleanup = (): Promise<void> =>
    (running ??= (async () => {
      try {
        await cleanupFn();
      } catch (error) {
        console.error(
          `${options.name}: cleanup failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
      }
    })());

  const stop = (why: string, exitCode: number): void => {
    if (running !== null) {
      console.error(`${options.name}: ${why} while stopping; still cleaning up`);
      return;
    }
    console.error(`${options.name}: ${why}: stopping every process this run started`);
    const forced = setTimeout(() => {
      console.error(`${options.name}: cleanup took over ${cleanupTimeoutMs / 1000} s; exiting without it`);
      process.exit(exitCode);
    }, cleanupTimeoutMs);
    void cleanup().finally(() => {
      clearTimeout(forced);
      process.exit(exitCode);
    });
  };

  const handlers = SIGNALS.map((signal) => {
    const handler = (): void => stop(`${signal} received`, 128 + constants.signals[signal]);
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  const watchdog = setTimeout(
    () => stop(`still running ${graceMs / 1000} s past --timeout-s ${options.timeoutMs / 1000}`, 1),
    options.timeoutMs + graceMs,
  );
  watchdog.unref();

  return {
    setCleanup(fn) {
      cleanupFn = fn;
    },
    cleanup,
    dispose() {
      clearTimeout(watchdog);
      for (const [signal, handler] of handlers) process.off(signal, handler);
    },
  };
}
