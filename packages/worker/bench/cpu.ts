import { readFileSync, readdirSync } from "node:fs";

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

/**
 * CPU nanoseconds of every thread of the process, summed by thread name (`/proc/self/task/<id>/stat`),
 * names ending in digits grouped: the engine names its pools; Node's other threads are all "node"
 * (libuv's workers, which run the engine calls, and V8's helpers, which run much of the GC); the
 * main thread is "main".
 */
export function threadGroupsCpuNs(): Map<string, number> {
  const groups = new Map<string, number>();
  const ticksToNs = 1e9 / 100;
  for (const id of readdirSync("/proc/self/task")) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${id}/stat`, "utf8");
    } catch {
      continue; // the thread ended
    }
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).replace(/[\s#:_-]*\d+$/, "");
    const name = Number(id) === process.pid ? "main" : comm;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ns = (Number(fields[11]) + Number(fields[12])) * ticksToNs;
    groups.set(name, (groups.get(name) ?? 0) + ns);
  }
  return groups;
}

/** The CPU µs per record each thread group spent between two `threadGroupsCpuNs` readings (groups under 0.5 µs left out). */
export function threadGroupsPerRecord(
  before: Map<string, number>,
  after: Map<string, number>,
  records: number,
): Record<string, number> {
  const out: [string, number][] = [];
  for (const [name, ns] of after) {
    const us = (ns - (before.get(name) ?? 0)) / 1000 / records;
    if (us >= 0.5) out.push([name, round(us)]);
  }
  return Object.fromEntries(out.sort((a, b) => b[1] - a[1]));
}
