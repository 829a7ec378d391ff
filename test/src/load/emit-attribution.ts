import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";

/** What the emits of one progress window cost, and what else the process went through meanwhile. */
export interface EmitWindow {
  /** Caller-side cost of each emit, microseconds. */
  readonly emitUs: number[];
  /** The same for the emits during which no garbage collection ran. */
  readonly emitUsOutsideGc: number[];
  /** Wall time of each run of the probe: a fixed, allocation-free computation, microseconds. */
  readonly probeUs: number[];
  /** Garbage-collection pauses that ended in the window, milliseconds in all. */
  readonly gcMs: number;
  /** The longest the event loop was held up (timers late) in the window, milliseconds. */
  readonly loopDelayMaxMs: number;
}

/** FNV-1a over a fixed buffer: CPU only, no allocation, so only the machine can make it slower. */
function probeWork(data: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) hash = Math.imul(hash ^ data[i]!, 0x01000193);
  return hash;
}

/**
 * Splits where emit's caller-side time goes: emits are matched with the garbage-collection pauses
 * Node reports (a pause inside an emit is paid by that emit), and after every `probeEvery`-th emit
 * a probe runs in line — a fixed computation of about an emit's median cost that allocates nothing
 * and touches no producer — so that its spread is what the machine (other processes on the same
 * cores, the process's own threads, interrupts) adds to any code running where emit runs. (A probe
 * on a timer would run just after the thread woke up, when the scheduler favours it, and
 * understate that.) Windows are handed out one report late, once the pauses of their emits have
 * been reported.
 */
export class EmitAttribution {
  #current: { start: number; end: number; us: number }[] = [];
  #previous: { start: number; end: number; us: number }[] = [];
  #gc: { start: number; end: number }[] = [];
  #probeUs: number[] = [];
  #gcMs = 0;
  readonly #observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      this.#gc.push({ start: entry.startTime, end: entry.startTime + entry.duration });
      this.#gcMs += entry.duration;
    }
  });
  readonly #probeData = new Uint8Array(12 * 1024).map((_, i) => (i * 31) & 0xff);
  readonly #loopDelay = monitorEventLoopDelay({ resolution: 5 });
  #sink = 0;
  #emitCount = 0;

  constructor(private readonly probeEvery = 8) {}

  start(): void {
    this.#observer.observe({ entryTypes: ["gc"] });
    this.#loopDelay.enable();
  }

  /** The probe's results folded together, so that its work cannot be optimized away. */
  get probeChecksum(): number {
    return this.#sink;
  }

  stop(): void {
    this.#observer.disconnect();
    this.#loopDelay.disable();
  }

  observe(startedAt: number, costUs: number): void {
    this.#current.push({ start: startedAt, end: startedAt + costUs / 1000, us: costUs });
    if (++this.#emitCount % this.probeEvery !== 0) return;
    const started = performance.now();
    this.#sink ^= probeWork(this.#probeData);
    this.#probeUs.push((performance.now() - started) * 1000);
  }

  /** The window before the last one (its GC pauses are known by now). */
  take(): EmitWindow {
    const window = this.#previous;
    this.#previous = this.#current;
    this.#current = [];
    const horizon = window.length === 0 ? 0 : window[0]!.start;
    this.#gc = this.#gc.filter((pause) => pause.end >= horizon);
    const emitUs: number[] = [];
    const emitUsOutsideGc: number[] = [];
    for (const emit of window) {
      emitUs.push(emit.us);
      if (!this.#gc.some((pause) => pause.start < emit.end && pause.end > emit.start))
        emitUsOutsideGc.push(emit.us);
    }
    const probeUs = this.#probeUs;
    this.#probeUs = [];
    const gcMs = this.#gcMs;
    this.#gcMs = 0;
    const loopDelayMaxMs = this.#loopDelay.max / 1e6;
    this.#loopDelay.reset();
    return { emitUs, emitUsOutsideGc, probeUs, gcMs, loopDelayMaxMs };
  }
}
