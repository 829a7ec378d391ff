// kafkajs 2.2.4 decodes each fetched record (src/protocol/recordBatch/record/v0/decoder.js) by
// parsing its batch's first offset and first timestamp from decimal strings into Long objects
// again, adding the record's deltas and printing them back, reading the timestamp delta through a
// Long per varint byte, and building the headers object with one object spread per header. This
// module gives the same record, field for field, with plain numbers where they are exact (both
// strings of at most 15 digits, deltas of at most 7 varint bytes) and one headers object filled
// in place; anything else goes to kafkajs's own decoder. It goes in kafkajs's place in Node's
// module cache before kafkajs loads the record batch decoder that requires it, which kafkajs does
// at a consumer's first fetch (see kafkajs-module.ts). The worker's main thread spends most of
// its time fetching; this is where kafkajs spends it per record.
import { createRequire } from "node:module";
import { kafkajsFile, replaceKafkajsModule } from "./kafkajs-module.js";
import type { ReplacementState } from "./kafkajs-module.js";

const require = createRequire(import.meta.url);

const RECORD_DECODER = "protocol/recordBatch/record/v0/decoder.js";
const BATCH_DECODER = "protocol/recordBatch/v0/decoder.js";

/** kafkajs's `Decoder`, as far as a record uses it. */
export interface KafkaDecoder {
  readonly buffer: Buffer;
  offset: number;
  readInt8(): number;
  readVarInt(): number;
  readVarIntBytes(): Buffer | null;
  readVarIntString(): string | null;
}

/** What kafkajs's record batch decoder passes for each record. */
export interface RecordBatchContext {
  readonly firstOffset?: string;
  readonly firstTimestamp?: string;
  readonly magicByte?: number;
  readonly isControlBatch?: boolean;
  readonly timestampType?: number;
  readonly maxTimestamp?: string;
}

export type RecordDecoder = (decoder: KafkaDecoder, batchContext?: RecordBatchContext) => unknown;

/** kafkajs's TimestampTypes.LOG_APPEND_TIME. */
const LOG_APPEND_TIME = 1;
/** Decimal digits (sign included) that a double holds exactly, with room for a 49-bit delta. */
const EXACT_DIGITS = 15;
/** Varint bytes of a delta read as a number: 7 × 7 = 49 bits. */
const VARLONG_BYTES = 7;

/** A zigzag varlong of at most 7 bytes as a number; undefined (nothing read) when longer. */
function readShortVarLong(decoder: KafkaDecoder): number | undefined {
  const { buffer } = decoder;
  let at = decoder.offset;
  let value = 0;
  let scale = 1;
  for (let read = 0; read < VARLONG_BYTES && at < buffer.length; read++) {
    const byte = buffer[at++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      decoder.offset = at;
      return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
    }
    scale *= 128;
  }
  return undefined;
}

function exact(decimal: string | undefined): decimal is string {
  return typeof decimal === "string" && decimal.length <= EXACT_DIGITS;
}

/** kafkajs's record decoder, the same records; `own` (kafkajs's) for what it does not handle. */
export function directRecordDecoder(own: RecordDecoder): RecordDecoder {
  return (decoder, batchContext = {}) => {
    const {
      firstOffset,
      firstTimestamp,
      magicByte,
      isControlBatch = false,
      timestampType,
      maxTimestamp,
    } = batchContext;
    if (!exact(firstOffset) || !exact(firstTimestamp)) return own(decoder, batchContext);
    const start = decoder.offset;
    const attributes = decoder.readInt8();
    const timestampDelta = readShortVarLong(decoder);
    if (timestampDelta === undefined) {
      decoder.offset = start;
      return own(decoder, batchContext);
    }
    const timestamp =
      timestampType === LOG_APPEND_TIME && maxTimestamp
        ? maxTimestamp
        : String(Number(firstTimestamp) + timestampDelta);
    const offset = String(Number(firstOffset) + decoder.readVarInt());
    const key = decoder.readVarIntBytes();
    const value = decoder.readVarIntBytes();
    const headers: Record<string, unknown> = {};
    for (let count = decoder.readVarInt(), index = 0; index < count; index++) {
      const name = String(decoder.readVarIntString());
      const header = decoder.readVarIntBytes();
      // as kafkajs: a repeated name collects its values in an array
      const had = headers[name];
      const merged = had === undefined ? header : Array.isArray(had) ? had.concat([header]) : [had, header];
      // an own property whatever the name: `headers.__proto__ = …` would set the prototype
      if (name === "__proto__")
        Object.defineProperty(headers, name, {
          value: merged,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      else headers[name] = merged;
    }
    return {
      magicByte,
      attributes,
      timestamp,
      offset,
      key,
      value,
      headers,
      isControlRecord: isControlBatch,
      batchContext,
    };
  };
}

/** Puts {@link directRecordDecoder} in kafkajs's place, keeping kafkajs's own for the rest. Idempotent. */
export function installDirectFetchRecords(): ReplacementState {
  const file = kafkajsFile(RECORD_DECODER);
  if (file === undefined) return "not-found";
  const current = require(file) as RecordDecoder & { direct?: true };
  if (current.direct === true) return "installed";
  const direct = Object.assign(directRecordDecoder(current), { direct: true as const });
  return replaceKafkajsModule(RECORD_DECODER, BATCH_DECODER, direct);
}

export const directFetchRecords: ReplacementState = installDirectFetchRecords();
