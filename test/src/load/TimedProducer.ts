import type { TraceContext } from "@tracehouse/context";
import { Producer } from "@tracehouse/producer";
import type { EmitFields, EmitResult, ProducerOptions } from "@tracehouse/producer";
import { newEventId } from "@tracehouse/schemas";
import type { RecordType } from "@tracehouse/schemas";
import { Samples } from "./samples.js";

export interface EmittedRecord {
  readonly eventId: string;
  readonly type: RecordType;
  /** The trace of the record ("" when the producer picked a new trace itself). */
  readonly traceId: string;
  readonly result: EmitResult;
  /** `performance.now()` just before `emit` was called. */
  readonly startedAt: number;
}

/**
 * The real producer, observed: every record gets its event id here (so the caller knows it),
 * the caller-side cost of each `emit` is sampled, and an observer hears of every record.
 * The tracker and the span exporter emit through `emit`, so their records are seen too.
 */
export class RecordingProducer extends Producer {
  /** Caller-side cost of each `emit`, microseconds (the event id is made before the clock starts). */
  readonly emitUs = new Samples();
  readonly #observe: (record: EmittedRecord) => void;

  constructor(options: ProducerOptions, observe: (record: EmittedRecord) => void) {
    super(options);
    this.#observe = observe;
  }

  override emit<T extends RecordType>(type: T, fields: EmitFields<T>, context?: TraceContext): EmitResult {
    const eventId = fields.event_id ?? newEventId();
    const withId = { ...fields, event_id: eventId } as EmitFields<T>;
    const startedAt = performance.now();
    const result = super.emit(type, withId, context);
    this.emitUs.add((performance.now() - startedAt) * 1000);
    this.#observe({ eventId, type, traceId: fields.trace_id ?? context?.traceId ?? "", result, startedAt });
    return result;
  }
}
