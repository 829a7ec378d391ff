import type { TraceContext } from "@tracehouse/context";
import { Producer } from "@tracehouse/producer";
import type { EmitFields, EmitResult, ProducerOptions } from "@tracehouse/producer";
import type { RecordType } from "@tracehouse/schemas";
import { randomBytes } from "node:crypto";

const PROCESS_BITS = randomBytes(6).toString("hex");
let sequence = 0;

/**
 * A UUIDv7-shaped event id at a fraction of the cost of a random one (the schemas package's
 * `newEventId` asks the CSPRNG for every id, which costs the agents process more than `emit`
 * itself): 48-bit milliseconds, a 24-bit sequence, 48 random bits fixed per process.
 */
function loadEventId(): string {
  const time = Date.now().toString(16).padStart(12, "0");
  const seq = (sequence++ & 0xffffff).toString(16).padStart(6, "0");
  return `${time.slice(0, 8)}-${time.slice(8)}-7${seq.slice(0, 3)}-8${seq.slice(3)}-${PROCESS_BITS}`;
}

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
    const eventId = fields.event_id ?? loadEventId();
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
