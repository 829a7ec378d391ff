import type { IHeaders, Producer } from "kafkajs";
import { DeadLetterHeader } from "../dead-letter.js";
import type { DeadLetterReason } from "../dead-letter.js";
import type { SourceRecord } from "./source.js";

export interface DeadLetter {
  readonly source: SourceRecord;
  readonly reason: DeadLetterReason;
  readonly error: string;
  /** The table whose insert rejected the row, for `rejected`. */
  readonly table?: string;
}

const MAX_ERROR_CHARS = 2000;

function deadLetterHeaders(letter: DeadLetter, group: string, time: string): IHeaders {
  const { source } = letter;
  const headers: IHeaders = {};
  const original = source.message.headers ?? {};
  for (const name of Object.keys(original)) {
    const value = original[name];
    if (value !== undefined) headers[name] = value;
  }
  headers[DeadLetterHeader.Reason] = letter.reason;
  headers[DeadLetterHeader.Error] = letter.error.slice(0, MAX_ERROR_CHARS);
  headers[DeadLetterHeader.Topic] = source.topic;
  headers[DeadLetterHeader.Partition] = String(source.partition);
  headers[DeadLetterHeader.Offset] = String(source.offset);
  headers[DeadLetterHeader.Timestamp] = source.message.timestamp;
  headers[DeadLetterHeader.Time] = time;
  headers[DeadLetterHeader.Group] = group;
  if (letter.table !== undefined) headers[DeadLetterHeader.Table] = letter.table;
  return headers;
}

/** Sends poison records to the dead-letter topic: original key, value and headers, plus why and where from. */
export class DeadLetterSender {
  constructor(
    private readonly producer: Producer,
    readonly topic: string,
    private readonly group: string,
  ) {}

  async send(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const time = new Date().toISOString();
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: letters.map((letter) => ({
        key: letter.source.message.key,
        value: letter.source.message.value,
        headers: deadLetterHeaders(letter, this.group, time),
      })),
    });
  }
}
