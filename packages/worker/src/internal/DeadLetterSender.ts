import type { Row } from "@tracehouse/clickhouse";
import type { IHeaders, Kafka, Producer } from "kafkajs";
import { DeadLetterHeader, DeadLetterValue } from "../dead-letter.js";
import type { DeadLetterReason } from "../dead-letter.js";
import { addressKey, readOriginals } from "./read-originals.js";
import type { SourceMessage, SourceRef } from "./source.js";

export interface DeadLetter {
  readonly source: SourceRef;
  /** The consumed message; null to read it back from Kafka before sending (rows rejected by ClickHouse). */
  readonly message: SourceMessage | null;
  /** The row, sent as JSON only if the original record can no longer be read. */
  readonly row?: Row;
  readonly reason: DeadLetterReason;
  readonly error: string;
  /** The table whose insert rejected the row, for `rejected`. */
  readonly table?: string;
}

const MAX_ERROR_CHARS = 2000;
const READ_BACK_TIMEOUT_MS = 30_000;

function deadLetterHeaders(
  letter: DeadLetter,
  message: SourceMessage | null,
  group: string,
  time: string,
): IHeaders {
  const { offsets, offset } = letter.source;
  const headers: IHeaders = {};
  const original = message?.headers ?? {};
  for (const name of Object.keys(original)) {
    const value = original[name];
    if (value !== undefined) headers[name] = value;
  }
  headers[DeadLetterHeader.Reason] = letter.reason;
  headers[DeadLetterHeader.Error] = letter.error.slice(0, MAX_ERROR_CHARS);
  headers[DeadLetterHeader.Topic] = offsets.topic;
  headers[DeadLetterHeader.Partition] = String(offsets.partition);
  headers[DeadLetterHeader.Offset] = String(offset);
  if (message !== null) headers[DeadLetterHeader.Timestamp] = message.timestamp;
  headers[DeadLetterHeader.Time] = time;
  headers[DeadLetterHeader.Group] = group;
  headers[DeadLetterHeader.Value] = message === null ? DeadLetterValue.RowJson : DeadLetterValue.Original;
  if (letter.table !== undefined) headers[DeadLetterHeader.Table] = letter.table;
  return headers;
}

/** Sends poison records to the dead-letter topic: original key, value and headers, plus why and where from. */
export class DeadLetterSender {
  constructor(
    private readonly producer: Producer,
    private readonly kafka: Kafka,
    readonly topic: string,
    private readonly group: string,
  ) {}

  async send(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const unread = letters.filter((letter) => letter.message === null);
    const originals = await readOriginals(
      this.kafka,
      unread.map(({ source }) => ({
        topic: source.offsets.topic,
        partition: source.offsets.partition,
        offset: source.offset,
      })),
      READ_BACK_TIMEOUT_MS,
    );
    const time = new Date().toISOString();
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: letters.map((letter) => {
        const { offsets, offset } = letter.source;
        const message =
          letter.message ??
          originals.get(addressKey({ topic: offsets.topic, partition: offsets.partition, offset })) ??
          null;
        return {
          key: message === null ? null : message.key,
          value: message === null ? Buffer.from(JSON.stringify(letter.row ?? null)) : message.value,
          headers: deadLetterHeaders(letter, message, this.group, time),
        };
      }),
    });
  }
}
