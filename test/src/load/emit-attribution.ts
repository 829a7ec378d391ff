import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import type { ThreadSchedStat } from "./thread-sched.js";

/** What the emits of one progress window cost, and what else the process went through meanwhile. */
export interface EmitWindow {
  /** Caller-side cost of each emit, microseconds. */
  readonly emitUs: number[];
  /** The same for the emits during which no garbage collection ran. */
  readonly emitUsOutsideGc: number[];
  /**
   * Each emit's cost less the time its thread waited for a core meanwhile (pre-empted), as the
   * kernel counted it; empty without scheduler readings.
   */
  readonly emitNetUs: number[];
  /** The cost of each emit during which the thread never left its core; empty without scheduler readings. */
  readonly emitUsOnCore: number[];
  /** Wall time of each run of the probe: a fixed, allocation-free computation, microseconds. */
  readonly probeUs: number[];
  /** The same less the time the thread waited for a core meanwhile; empty without scheduler readings. */
  readonly probeNetUs: number[];
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

/** One emit: when it ran, its cost, and how long its thread waited for a core meanwhile. */
interface EmitCost {
  readonly start: number;
  readonly end: number;
  readonly us: number;
  readonly waitUs: number;
  readonly descheduled: boolean;
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
  #current: EmitCost[] = [];
  #previous: EmitCost[] = [];
  #gc: { start: number; end: number }[] = [];
  #probeUs: number[] = [];
  #probeNetUs: number[] = [];
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

  /** With `sched` (the thread's scheduler readings), the figures net of pre-emption are kept too. */
  constructor(
    readonly sched: ThreadSchedStat | null = null,
    private readonly probeEvery = 8,
  ) {}

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

  /** One emit: its cost and, with scheduler readings, how long its thread waited for a core meanwhile. */
  observe(startedAt: number, costUs: number, waitUs = 0, descheduled = false): void {
    this.#current.push({ start: startedAt, end: startedAt + costUs / 1000, us: costUs, waitUs, descheduled });
    if (++this.#emitCount % this.probeEvery !== 0) return;
    const sched = this.sched;
    sched?.read();
    const waitNs = sched?.waitNs ?? 0;
    const started = performance.now();
    this.#sink ^= probeWork(this.#probeData);
    const us = (performance.now() - started) * 1000;
    this.#probeUs.push(us);
    if (sched === null) return;
    sched.read();
    this.#probeNetUs.push(Math.max(0, us - (sched.waitNs - waitNs) / 1000));
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
    const emitNetUs: number[] = [];
    const emitUsOnCore: number[] = [];
    for (const emit of window) {
      emitUs.push(emit.us);
      if (!this.#gc.some((pause) => pause.start < emit.end && pause.end > emit.start))
        emitUsOutsideGc.push(emit.us);
      if (this.sched === null) continue;
      // the readings bracket the stopwatch closely, so a wait outside the call is rare; never below 0
      emitNetUs.push(Math.max(0, emit.us - emit.waitUs));
      if (!emit.descheduled) emitUsOnCore.push(emit.us);
    }
    const probeUs = this.#probeUs;
    this.#probeUs = [];
    const probeNetUs = this.#probeNetUs;
    this.#probeNetUs = [];
    const gcMs = this.#gcMs;
    this.#gcMs = 0;
    const loopDelayMaxMs = this.#loopDelay.max / 1e6;
    this.#loopDelay.reset();
    return { emitUs, emitUsOutsideGc, emitNetUs, emitUsOnCore, probeUs, probeNetUs, gcMs, loopDelayMaxMs };
  }
}
