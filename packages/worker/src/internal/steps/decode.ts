import { DecodeError, DecodeErrorReason, decodeRecord } from "@tracehouse/schemas";
import type { DecodedRecord } from "@tracehouse/schemas";
import type { DeadLetter } from "../DeadLetterSender.js";
import type { PartitionLedger } from "../PartitionLedger.js";
import type { SourceMessage, SourceRef } from "../source.js";
import type { WriterSchemaResolver } from "../WriterSchemaResolver.js";
import type { DeadLetterStep } from "./dead-letter.js";
import type { Projector, Unprojectable } from "./project.js";
import type { FetchStep, FetchedBatch, StepContext } from "./step.js";
import { messageOf } from "./step.js";

export type Decoding =
  { readonly ok: true; readonly record: DecodedRecord } | ({ readonly ok: false } & Unprojectable);

const EMPTY = Buffer.alloc(0);

/**
 * Bytes to a record, or why they are not one. A record of a newer writer (unknown fingerprint) is
 * decoded again once its schema is found in the schemas topic.
 */
export class Decoder {
  constructor(private readonly writerSchemas: WriterSchemaResolver | null = null) {}

  decode(message: SourceMessage): Decoding {
    try {
      return { ok: true, record: decodeRecord(message.value ?? EMPTY) };
    } catch (error) {
      if (error instanceof DecodeError) return { ok: false, reason: error.reason, error: error.message };
      return { ok: false, reason: DecodeErrorReason.Corrupt, error: messageOf(error) };
    }
  }

  /** Whether a failed decoding may succeed once the writer's schema is looked up. */
  canResolve(decoding: Decoding): boolean {
    return (
      !decoding.ok && decoding.reason === DecodeErrorReason.UnknownFingerprint && this.writerSchemas !== null
    );
  }

  /** Decodes again with the writer schema found in the schemas topic; `decoding` when there is none. */
  async resolve(message: SourceMessage, decoding: Decoding): Promise<Decoding> {
    if (!this.canResolve(decoding) || this.writerSchemas === null) return decoding;
    const record = await this.writerSchemas.resolveRecord(message.value ?? EMPTY);
    return record === null ? decoding : { ok: true, record };
  }
}

/**
 * The head of the chain: takes a fetched batch, tracks each new offset (a redelivered one is not
 * handled twice), decodes each record and hands it to the project step; what cannot become a row
 * goes to the dead-letter step. Resolves once those dead letters are sent.
 */
export class DecodeStep implements FetchStep {
  constructor(
    private readonly context: StepContext,
    private readonly ledger: PartitionLedger,
    private readonly decoder: Decoder,
    private readonly projector: Projector,
    private readonly deadLetters: DeadLetterStep,
    /** After the batch's rows are handed on, before its dead letters are sent (backpressure). */
    private readonly accepted: () => void,
  ) {}

  async submit(batch: FetchedBatch): Promise<void> {
    if (this.context.failed !== null) return;
    const now = Date.now();
    const offsets = this.ledger.get(batch.topic, batch.partition);
    const letters: DeadLetter[] = [];
    const skippedBefore = this.projector.skipped;
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      if (!offsets.add(offset)) continue;
      const source: SourceRef = { offsets, offset };
      let decoding = this.decoder.decode(message);
      if (this.decoder.canResolve(decoding)) decoding = await this.decoder.resolve(message, decoding);
      const bytes = (message.value?.length ?? 0) + (message.key?.length ?? 0);
      const failure = decoding.ok
        ? this.projector.submit(decoding.record, message.headers, source, bytes, now)
        : decoding;
      if (failure !== null) letters.push(letterOf(source, message, failure));
    }
    offsets.seenUntil(batch.endOffset);
    const { metrics } = this.context;
    metrics.recordsHandled(batch.topic, "skipped", this.projector.skipped - skippedBefore);
    offsets.lag = Math.max(0, batch.highWatermark - batch.endOffset);
    metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, offsets.lag);
    this.accepted();
    if (letters.length > 0) await this.deadLetters.submit(letters);
  }
}

function letterOf(source: SourceRef, message: SourceMessage, failure: Unprojectable): DeadLetter {
  const { reason, error, field } = failure;
  return { source, message, reason, error, ...(field === undefined ? {} : { field }) };
}
