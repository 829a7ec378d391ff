/** What the receiver's stages have cost since it was created (`Receiver.stats()`). */
export interface ReceiverStats {
  /** Export requests decoded (bad payloads are not counted). */
  readonly requests: number;
  /** Spans in those requests, rejected ones included. */
  readonly spans: number;
  /** Records emitted to the producers. */
  readonly records: number;
  /** CPU microseconds of this process spent decoding request bodies into spans (protobuf or JSON, checks included). */
  readonly decodeCpuUs: number;
  /** CPU microseconds spent mapping spans to records. */
  readonly mapCpuUs: number;
  /** CPU microseconds spent in `producer.emit` (validation, Avro encoding, queueing). */
  readonly emitCpuUs: number;
  /** Wall-clock microseconds requests spent waiting for Kafka's acknowledgement, summed over requests. */
  readonly ackWaitUs: number;
}

/** User + system CPU microseconds of this process. */
export function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/**
 * Adds up the cost of each stage. The synchronous stages (decode, map, emit) run on the event
 * loop one request at a time, so the process CPU time between their ends is theirs (with the
 * small share of background threads: GC, gunzip); the wait for Kafka is wall-clock time.
 */
export class StageClock {
  #requests = 0;
  #spans = 0;
  #records = 0;
  #decode = 0;
  #map = 0;
  #emit = 0;
  #ackWait = 0;

  decoded(startCpuUs: number, spans: number): void {
    this.#requests += 1;
    this.#spans += spans;
    this.#decode += cpuMicros() - startCpuUs;
  }

  mapped(startCpuUs: number): number {
    const now = cpuMicros();
    this.#map += now - startCpuUs;
    return now;
  }

  emitted(startCpuUs: number, records: number): void {
    this.#records += records;
    this.#emit += cpuMicros() - startCpuUs;
  }

  acknowledged(startMs: number): void {
    this.#ackWait += Math.round((performance.now() - startMs) * 1000);
  }

  stats(): ReceiverStats {
    return {
      requests: this.#requests,
      spans: this.#spans,
      records: this.#records,
      decodeCpuUs: this.#decode,
      mapCpuUs: this.#map,
      emitCpuUs: this.#emit,
      ackWaitUs: this.#ackWait,
    };
  }
}
