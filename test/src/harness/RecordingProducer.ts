import type { TraceContext } from "@tracehouse/context";
import { isAccepted, Producer } from "@tracehouse/producer";
import type { EmitFields, ProducerOptions, EmitResult } from "@tracehouse/producer";
import { newEventId } from "@tracehouse/schemas";
import type { RecordType } from "@tracehouse/schemas";
import { wallClockMs } from "./poll.js";

/** One record the producer accepted (queued or spooled). */
export interface EmittedRecord {
  readonly type: RecordType;
  readonly eventId: string;
  /** Wall-clock time of the `emit` call, epoch ms. */
  readonly emittedAtMs: number;
  readonly result: EmitResult;
}

/**
 * A producer that keeps the event id and emit time of every record it accepted, so a test can wait
 * for exactly those records downstream and measure emit → queryable latency. Records the producer
 * did not take (sampled out, dropped, invalid) are only counted by the producer's stats.
 */
export class RecordingProducer extends Producer {
  readonly #emitted: EmittedRecord[] = [];
  readonly #listeners = new Set<(record: EmittedRecord) => void>();

  /** Accepted records, in emit order. */
  get emitted(): readonly EmittedRecord[] {
    return this.#emitted;
  }

  override emit<T extends RecordType>(type: T, fields: EmitFields<T>, context?: TraceContext): EmitResult {
    const eventId = fields.event_id ?? newEventId();
    const emittedAtMs = wallClockMs();
    const result = super.emit(type, { ...fields, event_id: eventId }, context);
    if (isAccepted(result)) {
      const record: EmittedRecord = { type, eventId, emittedAtMs, result };
      this.#emitted.push(record);
      for (const listener of this.#listeners) listener(record);
    }
    return result;
  }

  /** Calls `listener` with every record accepted from now on; returns the unsubscribe function. */
  subscribe(listener: (record: EmittedRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

export function createRecordingProducer(options: ProducerOptions): RecordingProducer {
  return new RecordingProducer(options);
}
