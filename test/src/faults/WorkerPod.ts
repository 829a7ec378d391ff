import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { getPriority } from "node:os";
import { fileURLToPath } from "node:url";
import { pollUntil } from "../harness/index.js";
import type { WorkerMessage, WorkerRunOptions, WorkerStatusReport } from "./protocol.js";

const WORKER_SCRIPT = fileURLToPath(new URL("./worker-process.ts", import.meta.url));

export interface PodExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One worker process (through tsx) and what it last reported. */
export class WorkerPod {
  readonly child: ChildProcess;
  /** Resolves when the worker has joined its group with partitions; rejects if the process ends first. */
  readonly ready: Promise<void>;
  readonly exited: Promise<PodExit>;
  /** Set before this process is killed or stopped on purpose. */
  expectedExit = false;
  #status: WorkerStatusReport | null = null;
  #failing = false;
  #failure: string | null = null;

  constructor(options: WorkerRunOptions) {
    const args = ["--import", "tsx", WORKER_SCRIPT, JSON.stringify(options)];
    // `nice -n` adds to this thread's niceness and execs node in the same process (same pid, signals)
    const niceBy = Math.max(0, (options.nice ?? 0) - getPriority());
    const command = niceBy === 0 ? process.execPath : "nice";
    const argv = niceBy === 0 ? args : ["-n", String(niceBy), process.execPath, ...args];
    this.child = spawn(command, argv, {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: "1" },
    });
    this.exited = new Promise((resolve) =>
      this.child.once("close", (code, signal) => resolve({ code, signal })),
    );
    this.ready = new Promise<void>((resolve, reject) => {
      this.child.on("message", (message: WorkerMessage) => {
        if (message.type === "ready") resolve();
        else if (message.type === "status") this.#status = message.status;
        else if (message.type === "fault") this.#failing = message.failing;
        else if (message.type === "failed") this.#failure = message.error;
      });
      void this.exited.then(({ code, signal }) =>
        reject(new Error(`worker ${this.pid} exited (code ${code}, signal ${signal}) before joining`)),
      );
    });
    this.ready.catch(() => undefined);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Rows this process has inserted (as last reported). */
  get written(): number {
    return this.#status?.written ?? 0;
  }

  get status(): WorkerStatusReport | null {
    return this.#status;
  }

  /** Why the worker gave up, when it reported it. */
  get failure(): string | null {
    return this.#failure;
  }

  /** Switches the injected sink fault on or off (SIGUSR2 toggles it) and waits for the acknowledgement. */
  async setSinkFault(failing: boolean, timeoutMs = 10_000): Promise<void> {
    if (this.#failing === failing) return;
    this.child.kill("SIGUSR2");
    await pollUntil(() => (this.#failing === failing ? true : undefined), {
      what: `worker ${this.pid} to switch the sink fault ${failing ? "on" : "off"}`,
      timeoutMs,
      intervalMs: 10,
    });
  }

  async kill(): Promise<PodExit> {
    this.expectedExit = true;
    this.child.kill("SIGKILL");
    return this.exited;
  }

  /** Graceful stop: the worker writes and commits what it fetched, leaves the group, closes the engine. */
  async stop(timeoutMs = 40_000): Promise<PodExit> {
    this.expectedExit = true;
    if (!this.alive) return this.exited;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
