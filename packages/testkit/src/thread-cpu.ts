import { readFileSync, readdirSync } from "node:fs";

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
    if (us >= 0.5) out.push([name, Number(us.toFixed(1))]);
  }
  return Object.fromEntries(out.sort((a, b) => b[1] - a[1]));
}
