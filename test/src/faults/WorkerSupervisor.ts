import { pollUntil } from "../harness/index.js";
import type { WorkerRunOptions } from "./protocol.js";
import { secondsSince } from "./timeline.js";
import type { Timeline } from "./timeline.js";
import { WorkerPod } from "./WorkerPod.js";

/**
 * The fault run's worker, as an orchestrator keeps it: one worker process at a time on the same
 * data directory; killed or restarted on purpose, and restarted (and reported) when it exits on
 * its own.
 */
export class WorkerSupervisor {
  #pod: WorkerPod | null = null;
  #writtenByEarlierPods = 0;
  #unplannedRestarts = 0;

  constructor(
    private readonly options: WorkerRunOptions,
    private readonly timeline: Timeline,
  ) {}

  /** The current worker process. */
  get pod(): WorkerPod {
    if (this.#pod === null) throw new Error("no worker process is running");
    return this.#pod;
  }

  get unplannedRestarts(): number {
    return this.#unplannedRestarts;
  }

  /** Rows every worker process of this run has inserted (as last reported). */
  written(): number {
    return this.#writtenByEarlierPods + (this.#pod?.written ?? 0);
  }

  /** Starts the first worker process; its `ready` resolves once it joined its group. */
  start(): WorkerPod {
    return this.#spawn();
  }

  async kill(): Promise<void> {
    const old = this.pod;
    await old.kill();
    this.timeline.record(`worker ${old.pid} killed (SIGKILL)`);
  }

  async restart(): Promise<void> {
    const clock = performance.now();
    const pod = this.#spawn();
    await pod.ready;
    this.timeline.record(
      `  worker ${pod.pid} started on the same data directory and joined ${secondsSince(clock)} s later`,
    );
  }

  /** Waits until the workers write rows again. */
  async writesResume(after: string): Promise<void> {
    const from = this.written();
    const clock = performance.now();
    await pollUntil(() => (this.written() > from ? true : undefined), {
      what: `the worker to write rows again after ${after}`,
      timeoutMs: this.timeline.left(),
      intervalMs: 25,
    });
    this.timeline.record(`  worker writes again ${secondsSince(clock)} s later`);
  }

  /** Graceful stop of the current worker; the supervisor then holds none. */
  async stop(): Promise<{ pid: number; code: number | null }> {
    const last = this.pod;
    this.#pod = null;
    const exit = await last.stop();
    return { pid: last.pid, code: exit.code };
  }

  /** Kills whatever worker process is left (cleanup). */
  async killAll(): Promise<void> {
    const last = this.#pod;
    this.#pod = null;
    if (last !== null) await last.kill();
  }

  #spawn(): WorkerPod {
    const started = new WorkerPod(this.options);
    this.#pod = started;
    void started.exited.then(({ code, signal }) => {
      this.#writtenByEarlierPods += started.written;
      if (started.expectedExit || this.#pod !== started) return;
      this.#unplannedRestarts++;
      this.timeline.record(
        `worker ${started.pid} exited on its own (code ${code}, signal ${signal})` +
          (started.failure === null ? "" : `: ${started.failure.split("\n")[0]}`) +
          "; restarting it",
      );
      this.#spawn();
    });
    return started;
  }
}
