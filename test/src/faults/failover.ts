import { pollUntil, quantile } from "../harness/index.js";
import type { EmitWindow } from "../load/emit-attribution.js";
import type { AgentProgress } from "../load/protocol.js";

interface Sample {
  readonly at: number;
  readonly sent: number;
  /** The producer's state when the report was made. */
  readonly state: string;
  readonly window: EmitWindow | null;
}

export interface FailoverMark {
  readonly label: string;
  readonly at: number;
}

export interface FailoverResult extends EmitFigures {
  readonly label: string;
  /** The longest time without a single record acknowledged by Kafka, from the fault on. */
  readonly stallMs: number;
}

export interface EmitFigures {
  /** p99 of emit's caller-side cost from the fault to the end of the stall, microseconds. */
  readonly emitP99Us: number | null;
  /** How many emits that p99 is over. */
  readonly emits: number;
  /** p99 of the emits during which no garbage collection ran. */
  readonly emitP99UsOutsideGc: number | null;
  /** Emits a garbage-collection pause fell into. */
  readonly emitsInGc: number;
  /**
   * p99 of emit's cost less the time its thread waited for a core meanwhile (pre-empted by other
   * threads or processes), as the kernel counted it; null without scheduler readings.
   */
  readonly emitP99UsNet: number | null;
  /** p99 of the emits during which the thread never left its core (no subtraction; fewer long ones). */
  readonly emitP99UsOnCore: number | null;
  /** Emits during which the thread left its core (pre-empted, or blocked). */
  readonly emitsDescheduled: number;
  /** p99 of the emits reported while the producer was degraded (sending failed, spooling). */
  readonly emitP99UsDegraded: number | null;
  /** The same less the time their thread waited for a core. */
  readonly emitP99UsDegradedNet: number | null;
  readonly emitsDegraded: number;
  /** Garbage-collection pauses in the agents' process meanwhile, milliseconds in all. */
  readonly gcMs: number;
  /** p50 and p99 of the agents' probe (fixed work, no allocation): what the machine adds to any code. */
  readonly probeP50Us: number | null;
  readonly probeP99Us: number | null;
  /** The probe's p99 less the time its thread waited for a core: near its p50 if pre-emption is the spread. */
  readonly probeP99UsNet: number | null;
  /** The longest the agents' event loop was held up meanwhile, milliseconds. */
  readonly loopDelayMaxMs: number;
}

/**
 * Measures what a broker failover costs the agents, from their progress reports (records Kafka
 * acknowledged so far, and the cost of each emit since the previous report): the delivery stall is the longest
 * gap between two reports that saw acknowledgements grow, from the fault until deliveries have
 * flowed steadily for `settleMs` again.
 */
export class FailoverMeter {
  readonly results: FailoverResult[] = [];
  #samples: Sample[] = [];
  /** The reports each failover's figures were taken from. */
  readonly #failoverSamples: Sample[] = [];

  constructor(private readonly settleMs = 2000) {}

  observe(progress: AgentProgress): void {
    this.#samples.push({
      at: performance.now(),
      sent: progress.sent,
      state: progress.state,
      window: progress.emitWindow,
    });
    if (this.#samples.length > 20_000) this.#samples = this.#samples.slice(-10_000);
  }

  begin(label: string): FailoverMark {
    return { label, at: performance.now() };
  }

  /** With `pooled` false the failover is measured alone: it joins neither `results` nor `pooled()`. */
  async end(mark: FailoverMark, timeoutMs: number, pooled = true): Promise<FailoverResult> {
    const { result, during } = await pollUntil(() => this.#measure(mark), {
      what: `deliveries to flow again after ${mark.label}`,
      timeoutMs,
      intervalMs: 50,
    });
    if (pooled) {
      this.results.push(result);
      this.#failoverSamples.push(...during);
    }
    return result;
  }

  /** The result once deliveries have grown steadily for settleMs after the longest gap; else undefined. */
  #measure(mark: FailoverMark): { result: FailoverResult; during: Sample[] } | undefined {
    const window = this.#samples.filter((s) => s.at >= mark.at);
    if (window.length < 2) return undefined;
    let lastGrowth = mark.at;
    let previous = this.#samples.findLast((s) => s.at < mark.at)?.sent ?? window[0]!.sent;
    let stallMs = 0;
    let stallEnd = mark.at;
    for (const sample of window) {
      if (sample.sent > previous) {
        if (sample.at - lastGrowth > stallMs) {
          stallMs = sample.at - lastGrowth;
          stallEnd = sample.at;
        }
        lastGrowth = sample.at;
        previous = sample.sent;
      }
    }
    const now = window[window.length - 1]!.at;
    if (lastGrowth === mark.at || now - stallEnd < this.settleMs || now - lastGrowth > this.settleMs / 4) {
      return undefined;
    }
    // a report carries the emits of the report before it: the windows lag the clock by one interval
    const during = window.filter((s) => s.at <= stallEnd);
    return { result: { label: mark.label, stallMs, ...emitFigures(during) }, during };
  }

  /** Emit figures over the reports received between `from` and `to` (`performance.now()` values). */
  between(from: number, to: number): EmitFigures {
    return emitFigures(this.#samples.filter((s) => s.at >= from && s.at <= to));
  }

  /** Emit figures over the emits of every failover measured so far, pooled. */
  pooled(): EmitFigures {
    return emitFigures(this.#failoverSamples);
  }
}

function emitFigures(samples: readonly Sample[]): EmitFigures {
  const during = samples.flatMap((s) => (s.window === null ? [] : [s.window]));
  const emits = during.flatMap((w) => w.emitUs);
  const outsideGc = during.flatMap((w) => w.emitUsOutsideGc);
  const onCore = during.flatMap((w) => w.emitUsOnCore);
  const probes = during.flatMap((w) => w.probeUs);
  // a report carries the emits of the report before it, so its state is the producer's at their end
  const degraded = samples.flatMap((s) => (s.window === null || s.state !== "degraded" ? [] : [s.window]));
  return {
    emitP99Us: quantile(emits, 0.99),
    emits: emits.length,
    emitP99UsOutsideGc: quantile(outsideGc, 0.99),
    emitsInGc: emits.length - outsideGc.length,
    emitP99UsNet: quantile(
      during.flatMap((w) => w.emitNetUs),
      0.99,
    ),
    emitP99UsOnCore: quantile(onCore, 0.99),
    emitsDescheduled: onCore.length === 0 ? 0 : emits.length - onCore.length,
    emitP99UsDegraded: quantile(
      degraded.flatMap((w) => w.emitUs),
      0.99,
    ),
    emitP99UsDegradedNet: quantile(
      degraded.flatMap((w) => w.emitNetUs),
      0.99,
    ),
    emitsDegraded: degraded.reduce((sum, w) => sum + w.emitUs.length, 0),
    gcMs: during.reduce((sum, w) => sum + w.gcMs, 0),
    probeP50Us: quantile(probes, 0.5),
    probeP99Us: quantile(probes, 0.99),
    probeP99UsNet: quantile(
      during.flatMap((w) => w.probeNetUs),
      0.99,
    ),
    loopDelayMaxMs: during.reduce((max, w) => Math.max(max, w.loopDelayMaxMs), 0),
  };
}

/** A figure for the run's report: one decimal. */
export const round = (value: number | null): number | null =>
  value === null ? null : Number(value.toFixed(1));

/** One line of the timeline: what emit cost, and what else the agents went through meanwhile. */
export function describeEmits(figures: EmitFigures): string {
  const us = (value: number | null): string => value?.toFixed(1) ?? "-";
  return (
    `emit p99 ${us(figures.emitP99Us)} µs over ${figures.emits} emits (${us(figures.emitP99UsOutsideGc)} µs ` +
    `without the ${figures.emitsInGc} a GC pause fell into; GC ${figures.gcMs.toFixed(1)} ms); ` +
    `net of waits for a core ${us(figures.emitP99UsNet)} µs, on core throughout ${us(figures.emitP99UsOnCore)} µs ` +
    `(${figures.emitsDescheduled} emits left the core); ` +
    `while degraded ${us(figures.emitP99UsDegraded)} µs (net ${us(figures.emitP99UsDegradedNet)}) over ${figures.emitsDegraded}; ` +
    `probe p50 ${us(figures.probeP50Us)} / p99 ${us(figures.probeP99Us)} µs (net ${us(figures.probeP99UsNet)}); ` +
    `agents' event loop held up ${figures.loopDelayMaxMs.toFixed(0)} ms at most`
  );
}
