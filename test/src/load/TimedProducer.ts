import type { TraceContext } from "@tracehouse/context";
import { Producer } from "@tracehouse/producer";
import type { EmitFields, EmitResult, ProducerOptions } from "@tracehouse/producer";
import { newEventId, type RecordType } from "@tracehouse/schemas";
import type { ThreadSchedStat } from "./thread-sched.js";

export interface TimedEmit {
  readonly eventId: string;
  readonly type: RecordType;
  /** The fields given to `emit`, event id included (envelope fields from the context are not). */
  readonly fields: Readonly<Record<string, unknown>>;
  readonly context: TraceContext | undefined;
  /** The trace of the record ("" when the producer picked a new trace itself). */
  readonly traceId: string;
  readonly result: EmitResult;
  /** `performance.now()` just before `emit` was called. */
  readonly startedAt: number;
  /** Caller-side cost of the call, microseconds. */
  readonly costUs: number;
  /**
   * Time the thread waited for a core between the scheduler readings around the call,
   * microseconds (0 without a scheduler reading, or when it was never pre-empted).
   */
  readonly waitUs: number;
  /** The thread left its core between those readings; false without a scheduler reading. */
  readonly descheduled: boolean;
}

/**
 * The real producer with a stopwatch around `emit` and an observer that hears of every record,
 * keeping nothing itself (a load run streams millions of ids away instead of holding them; the
 * harness's RecordingProducer keeps them for tests). The event id is made before the clock
 * starts, so the cost measured is the library's own. The tracker and the span exporter emit
 * through `emit`, so their records are seen too.
 */
export class TimedProducer extends Producer {
  readonly #observe: (emit: TimedEmit) => void;
  readonly #sched: ThreadSchedStat | null;

  /** With `sched`, the thread's scheduler accounting is read just before and after each call. */
  constructor(
    options: ProducerOptions,
    observe: (emit: TimedEmit) => void,
    sched: ThreadSchedStat | null = null,
  ) {
    super(options);
    this.#observe = observe;
    this.#sched = sched;
  }

  override emit<T extends RecordType>(type: T, fields: EmitFields<T>, context?: TraceContext): EmitResult {
    const eventId = fields.event_id ?? newEventId();
    const withId = Object.assign({}, fields, { event_id: eventId }) as EmitFields<T>;
    const sched = this.#sched;
    sched?.read();
    const waitNs = sched?.waitNs ?? 0;
    const switches = sched?.switches ?? 0;
    const startedAt = performance.now();
    const result = super.emit(type, withId, context);
    const costUs = (performance.now() - startedAt) * 1000;
    sched?.read();
    this.#observe({
      eventId,
      type,
      fields: withId as Readonly<Record<string, unknown>>,
      context,
      traceId: fields.trace_id ?? context?.traceId ?? "",
      result,
      startedAt,
      costUs,
      waitUs: sched === null ? 0 : (sched.waitNs - waitNs) / 1000,
      descheduled: sched !== null && sched.switches !== switches,
    });
    return result;
  }
}
