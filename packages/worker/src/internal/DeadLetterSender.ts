import type { Row } from "@tracehouse/clickhouse";
import { ErrorCode, PartitionAcks, TracehouseError, isTransientError } from "@tracehouse/schemas";
import { Partitioners } from "kafkajs";
import type { IHeaders, Kafka, Message, Producer } from "kafkajs";
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
  /** The field that cannot be stored, for `invalid_row`. */
  readonly field?: string;
}

/**
 * Whether a failed send may succeed later. The producer makes no retries of its own (the dead-letter step
 * owns them), so kafkajs reports a transient failure as "number of retries exceeded" (retriable:
 * false): that one is transient; a refusal (message too large, authorization) is not.
 */
export function isTransientSendError(error: unknown): boolean {
  if (error instanceof Error && error.name === "KafkaJSNumberOfRetriesExceeded") return true;
  return isTransientError(error);
}

const MAX_ERROR_CHARS = 2000;
/** Original headers are copied only while they stay this small (count and bytes). */
const MAX_COPIED_HEADERS = 64;
const MAX_COPIED_HEADER_BYTES = 16 * 1024;
const READ_BACK_TIMEOUT_MS = 30_000;

function headerBytes(value: unknown): number {
  if (Buffer.isBuffer(value)) return value.length;
  if (typeof value === "string") return Buffer.byteLength(value);
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + headerBytes(item), 0);
  return 0;
}

/** The original headers, or null when there are too many or they are too large to copy. */
function copiedHeaders(original: IHeaders | undefined): IHeaders | null {
  const headers: IHeaders = {};
  if (original === undefined) return headers;
  let count = 0;
  let bytes = 0;
  for (const name of Object.keys(original)) {
    const value = original[name];
    if (value === undefined) continue;
    count++;
    bytes += Buffer.byteLength(name) + headerBytes(value);
    if (count > MAX_COPIED_HEADERS || bytes > MAX_COPIED_HEADER_BYTES) return null;
    headers[name] = value;
  }
  return headers;
}

/**
 * Sends poison records to the dead-letter topic: original key, value and headers, plus why and where
 * from. It owns its producer, which makes no retries of its own (the dead-letter step owns them).
 */
export class DeadLetterSender {
  readonly #producer: Producer;
  readonly #acks = new PartitionAcks();

  /**
   * @param maxBytes the largest dead letter copied in full (value, key and headers); larger ones,
   * and any the broker refuses, are sent as pointers. Sends are grouped up to this size too.
   */
  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
    private readonly group: string,
    private readonly maxBytes: number,
  ) {
    // Not idempotent: an idempotent kafkajs producer retries for ever inside send(). A dead letter
    // sent twice is harmless.
    this.#producer = kafka.producer({
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: () => this.#acks.wrap(Partitioners.DefaultPartitioner()),
      retry: { retries: 0 },
    });
  }

  connect(): Promise<void> {
    return this.#producer.connect();
  }

  disconnect(): Promise<void> {
    return this.#producer.disconnect();
  }

  /**
   * Sends every letter; a send the broker refuses for good (too large) is retried one letter at a
   * time and then as a pointer. Transient failures are left to the caller's retries.
   */
  async send(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const messages = await this.#messages(letters);
    for (const chunk of this.#chunks(messages)) {
      try {
        await this.#produce(chunk.map(({ message }) => message));
      } catch (error) {
        if (isTransientSendError(error)) throw error;
        for (const { letter, message } of chunk) {
          if (chunk.length > 1) {
            try {
              await this.#produce([message]);
              continue;
            } catch (single) {
              if (isTransientSendError(single)) throw single;
            }
          }
          await this.#produce([this.#pointer(letter, `the broker refused the copy: ${messageOf(error)}`)]);
        }
      }
    }
  }

  /** Sends to the dead-letter topic; a send kafkajs resolved without writing every partition is a transient failure. */
  async #produce(messages: Message[]): Promise<void> {
    const answers = await this.#producer.send({ topic: this.topic, acks: -1, messages });
    const unanswered = this.#acks.unanswered(messages, () => this.topic, answers);
    if (unanswered.length > 0) {
      throw new TracehouseError(
        `${unanswered.length} of ${messages.length} dead letters were not acknowledged by their partition leaders`,
        { code: ErrorCode.Kafka, retriable: true },
      );
    }
  }

  async #messages(letters: readonly DeadLetter[]): Promise<{ letter: DeadLetter; message: Message }[]> {
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
    return letters.map((letter) => {
      const { offsets, offset } = letter.source;
      const source =
        letter.message ??
        originals.get(addressKey({ topic: offsets.topic, partition: offsets.partition, offset })) ??
        null;
      return { letter, message: this.#full(letter, source) };
    });
  }

  /** The whole dead letter when it fits `maxBytes`, else its pointer form. */
  #full(letter: DeadLetter, source: SourceMessage | null): Message {
    const value = source === null ? Buffer.from(JSON.stringify(letter.row ?? null)) : source.value;
    const copied = copiedHeaders(source?.headers);
    const size = (value?.length ?? 0) + (source?.key?.length ?? 0);
    if (copied === null || size + MAX_COPIED_HEADER_BYTES > this.maxBytes) {
      return this.#pointer(letter, copied === null ? "headers too large to copy" : "value too large to copy");
    }
    return {
      key: source?.key ?? null,
      value: value ?? null,
      headers: {
        ...copied,
        ...this.#headers(letter, source === null ? DeadLetterValue.RowJson : DeadLetterValue.Original),
        ...(source === null ? {} : { [DeadLetterHeader.Timestamp]: source.timestamp }),
        [DeadLetterHeader.Size]: String(value?.length ?? 0),
      },
    };
  }

  /** Reason and source address only: the original stays in its topic at that offset. */
  #pointer(letter: DeadLetter, why: string): Message {
    const source = letter.message;
    const headers = this.#headers(letter, DeadLetterValue.Pointer, why);
    if (source !== null) {
      headers[DeadLetterHeader.Timestamp] = source.timestamp;
      headers[DeadLetterHeader.Size] = String(source.value?.length ?? 0);
    }
    const key = source?.key;
    return { key: key !== undefined && key !== null && key.length <= 256 ? key : null, value: null, headers };
  }

  #headers(letter: DeadLetter, value: DeadLetterValue, note?: string): IHeaders {
    const { offsets, offset } = letter.source;
    const error = note === undefined ? letter.error : `${letter.error} (${note})`;
    const headers: IHeaders = {
      [DeadLetterHeader.Reason]: letter.reason,
      [DeadLetterHeader.Error]: error.slice(0, MAX_ERROR_CHARS),
      [DeadLetterHeader.Topic]: offsets.topic,
      [DeadLetterHeader.Partition]: String(offsets.partition),
      [DeadLetterHeader.Offset]: String(offset),
      [DeadLetterHeader.Time]: new Date().toISOString(),
      [DeadLetterHeader.Group]: this.group,
      [DeadLetterHeader.Value]: value,
    };
    if (letter.table !== undefined) headers[DeadLetterHeader.Table] = letter.table;
    if (letter.field !== undefined) headers[DeadLetterHeader.Field] = letter.field;
    return headers;
  }

  /** Groups messages into sends of at most `maxBytes`. */
  #chunks<T extends { message: Message }>(items: readonly T[]): T[][] {
    const chunks: T[][] = [];
    let current: T[] = [];
    let bytes = 0;
    for (const item of items) {
      const size = messageBytes(item.message);
      if (current.length > 0 && bytes + size > this.maxBytes) {
        chunks.push(current);
        current = [];
        bytes = 0;
      }
      current.push(item);
      bytes += size;
    }
    if (current.length > 0) chunks.push(current);
    return chunks;
  }
}

function messageBytes(message: Message): number {
  let bytes = headerBytes(message.value) + headerBytes(message.key);
  for (const [name, value] of Object.entries(message.headers ?? {}))
    bytes += name.length + headerBytes(value);
  return bytes;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
