import type { IHeaders, Kafka, KafkaMessage } from "kafkajs";
import { DeadLetterValue, parseDeadLetterHeaders } from "../../dead-letter.js";
import type { DeadLetterInfo } from "../../dead-letter.js";
import { addressKey, readOriginals } from "../read-originals.js";
import type { RecordAddress } from "../read-originals.js";
import type { FetchStep, FetchedBatch } from "./step.js";

/** Headers of the dead letter that are not the original record's. */
const DEAD_LETTER_HEADER_PREFIX = "tracehouse-dlq-";
const READ_ORIGINALS_TIMEOUT_MS = 30_000;

export interface LetterSelection {
  /** Dead-letter reasons to keep; null for all. */
  readonly reasons: ReadonlySet<string> | null;
  /** Only dead letters written at or after this time (epoch ms). */
  readonly sinceMs?: number;
  /** Only dead letters written before this time (epoch ms). */
  readonly untilMs?: number;
}

function originalHeaders(headers: IHeaders | undefined): IHeaders {
  const kept: IHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!name.startsWith(DEAD_LETTER_HEADER_PREFIX)) kept[name] = value;
  }
  return kept;
}

function sourceAddress(info: DeadLetterInfo): RecordAddress | null {
  const offset = Number(info.offset);
  return Number.isSafeInteger(offset) ? { topic: info.topic, partition: info.partition, offset } : null;
}

/**
 * Redrive's step in front of decoding: keeps the dead letters selected (reason, time) and turns each
 * back into its original record, at the dead letter's offset (read from its source topic when the
 * letter holds no copy). The others are counted as skipped; their offsets are done with the batch.
 */
export class SelectLetters implements FetchStep {
  /** Dead letters not selected, or whose original is gone. */
  skipped = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly selection: LetterSelection,
    private readonly next: FetchStep,
  ) {}

  async submit(batch: FetchedBatch): Promise<void> {
    await this.next.submit({ ...batch, messages: await this.originals(batch.messages) });
  }

  async originals(letters: readonly KafkaMessage[]): Promise<KafkaMessage[]> {
    const { reasons, sinceMs, untilMs } = this.selection;
    const selected: { letter: KafkaMessage; info: DeadLetterInfo }[] = [];
    for (const letter of letters) {
      const info = parseDeadLetterHeaders(letter.headers);
      const time = Number(letter.timestamp);
      if (
        info === null ||
        (reasons !== null && !reasons.has(info.reason)) ||
        (sinceMs !== undefined && time < sinceMs) ||
        (untilMs !== undefined && time >= untilMs)
      ) {
        this.skipped++;
        continue;
      }
      selected.push({ letter, info });
    }
    const pointers = selected
      .filter(({ info }) => info.value !== DeadLetterValue.Original)
      .map(({ info }) => sourceAddress(info))
      .filter((address): address is RecordAddress => address !== null);
    const fetched =
      pointers.length === 0
        ? new Map<string, KafkaMessage>()
        : await readOriginals(this.kafka, pointers, READ_ORIGINALS_TIMEOUT_MS);
    const originals: KafkaMessage[] = [];
    for (const { letter, info } of selected) {
      let original: KafkaMessage | undefined = letter;
      if (info.value !== DeadLetterValue.Original) {
        const address = sourceAddress(info);
        original = address === null ? undefined : fetched.get(addressKey(address));
      }
      if (original === undefined) {
        this.skipped++;
        continue;
      }
      originals.push({
        ...original,
        offset: letter.offset,
        headers: originalHeaders(original.headers),
      } as KafkaMessage);
    }
    return originals;
  }
}
