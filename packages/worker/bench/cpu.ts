import { readFileSync } from "node:fs";

/**
 * CPU time of the calling thread in nanoseconds, from the scheduler (`/proc/thread-self/schedstat`):
 * unlike wall time, it does not grow while the thread waits for a core on a busy machine.
 */
export function threadCpuNs(): number {
  return Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ", 1)[0]);
}

/** CPU time of the whole process (every thread: JavaScript, the engine, libuv) in nanoseconds. */
export function processCpuNs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

/** Nanoseconds summed per named step, reported as microseconds per record. */
export class StepClock {
  readonly #ns = new Map<string, number>();

  add(step: string, ns: number): void {
    this.#ns.set(step, (this.#ns.get(step) ?? 0) + ns);
  }

  /** Runs `run` and adds the calling thread's CPU time to `step`. */
  time<T>(step: string, run: () => T): T {
    const started = threadCpuNs();
    const result = run();
    this.add(step, threadCpuNs() - started);
    return result;
  }

  total(): number {
    let sum = 0;
    for (const ns of this.#ns.values()) sum += ns;
    return sum;
  }

  perRecord(records: number): Record<string, number> {
    return Object.fromEntries([...this.#ns].map(([step, ns]) => [step, round(ns / 1000 / records)]));
  }
}

export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));
