import { isTracehouseError } from "@tracehouse/schemas";
import { DropReason, EmitResult, ProducerState } from "@tracehouse/producer";
import type { Producer, ProducerStats } from "@tracehouse/producer";
import type { ReceiverConfig } from "../config.js";
import { mapSpans } from "./map-spans.js";
import type { OtlpExport } from "./model.js";
import { SpanDirectory } from "./SpanDirectory.js";
import { cpuMicros, StageClock } from "./StageClock.js";

/** Why an export was refused as a whole, to be retried by the client (429/503 with Retry-After). */
export const Refusal = {
  /** Too many requests at once, or the producer's queue is more than half full. */
  Busy: "busy",
  /** Kafka is unavailable, did not acknowledge in time, or records were lost after acceptance. */
  Unavailable: "unavailable",
} as const;
export type Refusal = (typeof Refusal)[keyof typeof Refusal];

export class RefusedError extends Error {
  override readonly name = "RefusedError";
  constructor(
    readonly refusal: Refusal,
    message: string,
  ) {
    super(message);
  }
}

/** What became of an accepted export: every span not rejected is acknowledged by Kafka. */
export interface IngestResult {
  readonly accepted: number;
  readonly rejected: number;
  readonly rejectReason: string | null;
}

/** What emitting a request left to wait for. */
interface Emitted {
  /** The producers records went to. */
  readonly used: readonly Producer[];
  /** Their stats before, to tell records lost after acceptance. */
  readonly before: readonly ProducerStats[];
  readonly result: IngestResult;
}

/** Drops that can happen after a record was accepted (the record never reached Kafka). */
const LOST_AFTER_ACCEPT: readonly DropReason[] = [
  DropReason.SpoolFull,
  DropReason.SpoolError,
  DropReason.Closed,
  DropReason.Corrupt,
];

const lostCount = (stats: ProducerStats): number =>
  LOST_AFTER_ACCEPT.reduce((sum, reason) => sum + stats.dropped[reason], 0);

/**
 * Export requests → records → producers, answered only once Kafka has acknowledged them
 * (`producer.flush`: every record accepted before the call is sent). Several producers
 * ("lanes", each with one batch in flight) let acknowledgements overlap. Refuses work rather
 * than queue it without bound: at most `maxConcurrentRequests` at once, none while the
 * producer's queue is more than half full or Kafka is unavailable.
 */
export class Ingest {
  readonly #lanes: readonly Producer[];
  readonly #config: ReceiverConfig;
  readonly #directory: SpanDirectory;
  /** What each stage has cost so far. */
  readonly clock = new StageClock();
  #inFlight = 0;

  /** `lanes`: the producers to emit through; a trace always goes to the same one. */
  constructor(lanes: readonly Producer[], config: ReceiverConfig) {
    this.#lanes = lanes;
    this.#config = config;
    this.#directory = new SpanDirectory(config.maxTrackedSpans);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Takes a request in, before its body is read (so memory stays within `maxConcurrentRequests`
   * bodies), or refuses it at once when the receiver cannot take more. Returns the release.
   */
  admit(): () => void {
    if (this.#inFlight >= this.#config.maxConcurrentRequests) {
      throw new RefusedError(
        Refusal.Busy,
        `more than ${this.#config.maxConcurrentRequests} export requests at once`,
      );
    }
    for (const lane of this.#lanes) {
      const stats = lane.stats();
      if (stats.state !== ProducerState.Connected) {
        throw new RefusedError(Refusal.Unavailable, `kafka is unavailable (producer ${stats.state})`);
      }
      const limits = lane.config;
      if (stats.queuedRecords * 2 > limits.maxQueueRecords || stats.queuedBytes * 2 > limits.maxQueueBytes) {
        throw new RefusedError(Refusal.Busy, "the producer queue is more than half full");
      }
    }
    this.#inFlight += 1;
    let released = false;
    return () => {
      if (!released) this.#inFlight -= 1;
      released = true;
    };
  }

  /**
   * Maps, emits and waits for Kafka's acknowledgement; call between `admit()` and its release.
   * The wait holds only the outcome, not the request's spans and records, so that those are
   * garbage while it lasts (an async function would keep its arguments alive).
   */
  export(request: OtlpExport): Promise<IngestResult> {
    try {
      return this.#acknowledged(this.#emit(request));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** The producer of a trace: always the same one, so a trace's records stay in order. */
  #laneOf(traceId: string): Producer {
    const lanes = this.#lanes;
    return lanes.length === 1
      ? (lanes[0] as Producer)
      : (lanes[Number.parseInt(traceId.slice(24), 16) % lanes.length] as Producer);
  }

  /** Maps and emits a request's spans (synchronously). */
  #emit(request: OtlpExport): Emitted {
    const lanes = this.#lanes;
    const before = lanes.map((lane) => lane.stats());
    const mapStarted = cpuMicros();
    const mapped = mapSpans(request.groups, this.#directory);
    const emitStarted = this.clock.mapped(mapStarted);
    let emitted = 0;
    const used = new Set<Producer>();
    let rejected = request.rejected;
    let rejectReason = request.rejectReason;
    let dropped = 0;
    for (const records of mapped) {
      let spanRejected = false;
      emitted += records.length;
      for (const record of records) {
        const lane = this.#laneOf(record.fields.trace_id as string);
        used.add(lane);
        try {
          if (lane.emit(record.type, record.fields as never) === EmitResult.Dropped) {
            dropped += 1;
            spanRejected = true;
          }
        } catch (error) {
          spanRejected = true;
          rejectReason ??= isTracehouseError(error) ? error.message : String(error);
        }
      }
      if (spanRejected) rejected += 1;
    }
    this.clock.emitted(emitStarted, emitted);
    if (dropped > 0) {
      const oversize = lanes.reduce(
        (sum, lane, i) => sum + lane.stats().dropped.oversize - (before[i] as ProducerStats).dropped.oversize,
        0,
      );
      if (oversize < dropped)
        throw new RefusedError(Refusal.Busy, "the producer refused records (queue or spool full)");
      rejectReason ??= `records larger than the producer's maxRecordBytes (${(lanes[0] as Producer).config.maxRecordBytes})`;
    }
    return {
      used: [...used],
      before,
      result: { accepted: request.spanCount - rejected, rejected, rejectReason },
    };
  }

  /** Waits until Kafka has acknowledged what `#emit` emitted. */
  async #acknowledged({ used, before, result }: Emitted): Promise<IngestResult> {
    const lanes = this.#lanes;
    const waitStarted = performance.now();
    try {
      await Promise.all(used.map((lane) => lane.flush({ timeoutMs: this.#config.ackTimeoutMs })));
      this.clock.acknowledged(waitStarted);
    } catch (error) {
      throw new RefusedError(
        Refusal.Unavailable,
        `kafka did not acknowledge in time: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (lanes.some((lane, i) => lostCount(lane.stats()) > lostCount(before[i] as ProducerStats))) {
      throw new RefusedError(
        Refusal.Unavailable,
        "records were lost after acceptance (spool full or closing)",
      );
    }
    return result;
  }
}
