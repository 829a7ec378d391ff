import type { TraceContext } from "@tracehouse/context";
import { Producer } from "@tracehouse/producer";
import type { EmitFields, EmitResult, ProducerOptions } from "@tracehouse/producer";
import { newEventId, type RecordType } from "@tracehouse/schemas";
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

  constructor(options: ProducerOptions, observe: (emit: TimedEmit) => void) {
    super(options);
    this.#observe = observe;
  }

  override emit<T extends RecordType>(type: T, fields: EmitFields<T>, context?: TraceContext): EmitResult {
    const eventId = fields.event_id ?? newEventId();
    const withId = { ...fields, event_id: eventId } as EmitFields<T>;
    const startedAt = performance.now();
    const result = super.emit(type, withId, context);
    const costUs = (performance.now() - startedAt) * 1000;
    this.#observe({
      eventId,
      type,
      fields: withId as Readonly<Record<string, unknown>>,
      context,
      traceId: fields.trace_id ?? context?.traceId ?? "",
      result,
      startedAt,
      costUs,
    });
    return result;
  }
}
