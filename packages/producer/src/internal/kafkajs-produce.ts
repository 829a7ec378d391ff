// kafkajs 2.2.4's produce request (src/protocol/requests/produce/v3, which v4 to v7 reuse) copies
// every message with an object spread to add its offset delta, encodes each record into an
// encoder of its own, copies them all into a zero-filled buffer grown by doubling, and copies the
// batch again at each level of nesting. This module writes a partition's records once, into one
// buffer of their exact size, then the record batch around them (compressed or not) into one more:
// the same bytes, but for gzip's level (see GZIP_LEVEL). It goes in kafkajs's place in Node's module
// cache before kafkajs loads the newer request versions that build on it (see kafkajs-module.ts);
// requests with messages it does not handle (timestamps, keys or values other than text and bytes,
// headers other than text and bytes) go to kafkajs's own.
import { createRequire } from "node:module";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { asEncoder, byteLengthOf, varintSize, writeBytes, writeVarint } from "./kafka-wire.js";
import type { Bytes } from "./kafka-wire.js";
import { kafkajsFile, replaceKafkajsModule } from "./kafkajs-module.js";
import type { ReplacementState } from "./kafkajs-module.js";
import { installDirectRecords } from "./kafkajs-record.js";

const require = createRequire(import.meta.url);

const PRODUCE_V3 = "protocol/requests/produce/v3/request.js";
/** The request versions that take v3 when they load (v6 and v7 build on v5). */
const NEWER = ["protocol/requests/produce/v4/request.js", "protocol/requests/produce/v5/request.js"];

interface Message {
  readonly key?: unknown;
  readonly value?: unknown;
  readonly headers?: Readonly<Record<string, unknown>>;
  readonly timestamp?: unknown;
}

interface PartitionData {
  readonly partition: number;
  readonly firstSequence?: number;
  readonly messages: readonly Message[];
}

export interface ProduceArgs {
  readonly acks: number;
  readonly timeout: number;
  readonly transactionalId?: string | null;
  readonly producerId?: unknown;
  readonly producerEpoch?: number;
  readonly compression?: number;
  readonly topicData: readonly { readonly topic: string; readonly partitions: readonly PartitionData[] }[];
}

/** A kafkajs `Encoder`, as far as this module uses it. */
interface KafkaEncoder {
  readonly buf: Buffer;
  readonly buffer: Buffer;
  writeString(value: string | null): KafkaEncoder;
  writeInt16(value: number): KafkaEncoder;
  writeInt32(value: number): KafkaEncoder;
  writeInt64(value: unknown): KafkaEncoder;
  writeArray(value: readonly unknown[]): KafkaEncoder;
}

export interface ProduceRequest {
  readonly encode: () => Promise<KafkaEncoder>;
  readonly [key: string]: unknown;
}

export type ProduceRequestFactory = (args: ProduceArgs) => ProduceRequest;

interface Codec {
  compress(encoder: { readonly buffer: Buffer }): Promise<Buffer> | Buffer;
}

/** What this module needs of kafkajs: its encoder, codecs and CRC-32C. */
export interface KafkajsParts {
  readonly Encoder: new () => KafkaEncoder;
  readonly lookupCodec: (type: number) => Codec | null;
  /** kafkajs's codec table (`CompressionCodecs`), which an application may change. */
  readonly codecs: Readonly<Record<number, unknown>>;
  /** kafkajs's own gzip entry in it. */
  readonly kafkajsGzip: unknown;
  readonly crc32C: (buffer: Buffer) => number;
}

const INT32 = 2 ** 31;
const CODEC_MASK = 0x07;
const TRANSACTIONAL = 16;
const MAGIC = 2;
/** Partition, batch size, first offset, batch length, leader epoch, magic, CRC. */
const BATCH_PREFIX = 4 + 4 + 8 + 4 + 4 + 1 + 4;
/** Attributes, last offset delta, first and max timestamp, producer id and epoch, first sequence, record count. */
const BATCH_HEADER = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
/** Where the CRC-32C'd part of a batch (attributes onwards) starts. */
const CRC_FROM = BATCH_PREFIX;

const GZIP = 1;
/**
 * zlib level of gzip batches (kafkajs's codec takes zlib's default, 6). On span records level 2
 * takes under half the CPU time for batches about an eighth larger. An application's own gzip
 * codec, registered in kafkajs's CompressionCodecs, is used as it is.
 */
export const GZIP_LEVEL = 2;
const gzip = promisify(zlib.gzip);
const fastGzip: Codec = { compress: (encoder) => gzip(encoder.buffer, { level: GZIP_LEVEL }) };

const isBytes = (value: unknown): value is string | Buffer =>
  typeof value === "string" || Buffer.isBuffer(value);

/** Whether every message is one this module writes as kafkajs would. */
function handles(args: ProduceArgs): boolean {
  for (const { partitions } of args.topicData) {
    for (const { messages } of partitions) {
      if (messages.length === 0 || messages.length >= INT32) return false;
      for (const message of messages) {
        if (message.timestamp != null) return false;
        if (message.key != null && !isBytes(message.key)) return false;
        if (message.value != null && !isBytes(message.value)) return false;
        const headers = message.headers;
        if (headers === undefined) continue;
        if (typeof headers !== "object" || headers === null) return false;
        for (const name in headers) {
          if (!Object.hasOwn(headers, name)) continue;
          const entry = headers[name];
          if (Array.isArray(entry)) {
            for (const value of entry as unknown[]) if (!isBytes(value)) return false;
          } else if (!isBytes(entry)) return false;
        }
      }
    }
  }
  return true;
}

/** Byte lengths measured by the first pass over a partition's records, read back by the second. */
let lengths = new Float64Array(4096);
let measured = 0;
let read = 0;

function note(length: number): number {
  if (measured === lengths.length) {
    const grown = new Float64Array(lengths.length * 2);
    grown.set(lengths);
    lengths = grown;
  }
  lengths[measured++] = length;
  return length;
}

/** Varint length and bytes of `value` (-1 for null); notes the byte length. */
function bytesSize(value: Bytes): number {
  const length = note(byteLengthOf(value));
  return varintSize(length) + Math.max(0, length);
}

const bytesOf = (value: unknown): Bytes => (value == null ? null : (value as string | Buffer));

function headerValues(entry: unknown): readonly unknown[] {
  return Array.isArray(entry) ? entry : [entry];
}

/** Size of a record's body (everything after its length); notes key, value and header lengths in order. */
function measureRecord(message: Message, offsetDelta: number): number {
  let size = 1 + 1 + varintSize(offsetDelta); // attributes, timestamp delta 0, offset delta
  size += bytesSize(bytesOf(message.key));
  size += bytesSize(bytesOf(message.value));
  const headers = message.headers ?? {};
  let count = 0;
  let headerBytes = 0;
  for (const name of Object.keys(headers)) {
    for (const value of headerValues(headers[name])) {
      count += 1;
      headerBytes += bytesSize(name) + bytesSize(value as string | Buffer);
    }
  }
  return size + varintSize(count) + headerBytes;
}

/** Writes a record as kafkajs's record v0 does (timestamp delta 0), with the lengths noted by its measure. */
function writeRecord(
  buf: Buffer,
  offset: number,
  message: Message,
  offsetDelta: number,
  body: number,
): number {
  offset = writeVarint(buf, offset, body);
  buf[offset++] = 0; // attributes
  buf[offset++] = 0; // timestamp delta
  offset = writeVarint(buf, offset, offsetDelta);
  offset = writeBytes(buf, offset, bytesOf(message.key), lengths[read++] as number);
  offset = writeBytes(buf, offset, bytesOf(message.value), lengths[read++] as number);
  const headers = message.headers ?? {};
  const names = Object.keys(headers);
  let count = 0;
  for (const name of names) count += Array.isArray(headers[name]) ? (headers[name] as unknown[]).length : 1;
  offset = writeVarint(buf, offset, count);
  for (const name of names) {
    for (const value of headerValues(headers[name])) {
      offset = writeBytes(buf, offset, name, lengths[read++] as number);
      offset = writeBytes(buf, offset, value as string | Buffer, lengths[read++] as number);
    }
  }
  return offset;
}

/** Measures a partition's records: their total size; each record's body size goes to `bodies`. */
function measureRecords(messages: readonly Message[], bodies: number[]): number {
  measured = 0;
  let size = 0;
  for (let i = 0; i < messages.length; i++) {
    const body = measureRecord(messages[i] as Message, i);
    bodies.push(body);
    size += varintSize(body) + body;
  }
  return size;
}

/** Writes the records just measured into `buf` from `at`; `size` is what the measure said they take. */
function writeRecords(
  buf: Buffer,
  at: number,
  messages: readonly Message[],
  bodies: readonly number[],
  size: number,
): void {
  read = 0;
  let offset = at;
  for (let i = 0; i < messages.length; i++)
    offset = writeRecord(buf, offset, messages[i] as Message, i, bodies[i] as number);
  // a headers object changed between the passes (a getter, a proxy) would leave bytes unwritten
  if (offset - at !== size || read !== measured) throw new Error("a message changed while it was encoded");
}

interface BatchArgs {
  readonly compression: number;
  readonly producerId: unknown;
  readonly producerEpoch: number;
  readonly transactional: boolean;
}

/** One partition's entry of the request: partition, size, and its record batch (magic 2). */
async function encodePartition(
  parts: KafkajsParts,
  data: PartitionData,
  batch: BatchArgs,
): Promise<KafkaEncoder> {
  const { messages } = data;
  const now = Date.now();
  const bodies: number[] = [];
  const size = measureRecords(messages, bodies);
  let buf: Buffer;
  if (batch.compression === 0) {
    buf = Buffer.allocUnsafe(BATCH_PREFIX + BATCH_HEADER + size);
    writeRecords(buf, BATCH_PREFIX + BATCH_HEADER, messages, bodies, size);
  } else {
    const codec =
      batch.compression === GZIP && parts.codecs[GZIP] === parts.kafkajsGzip
        ? fastGzip
        : parts.lookupCodec(batch.compression);
    if (codec === null) throw new Error(`no codec for compression ${batch.compression}`);
    const records = Buffer.allocUnsafe(size);
    writeRecords(records, 0, messages, bodies, size);
    const compressed = await codec.compress({ buffer: records });
    buf = Buffer.allocUnsafe(BATCH_PREFIX + BATCH_HEADER + compressed.length);
    compressed.copy(buf, BATCH_PREFIX + BATCH_HEADER);
  }
  const header = new parts.Encoder()
    .writeInt16((batch.compression & CODEC_MASK) | (batch.transactional ? TRANSACTIONAL : 0))
    .writeInt32(messages.length - 1)
    .writeInt64(now)
    .writeInt64(now)
    .writeInt64(batch.producerId)
    .writeInt16(batch.producerEpoch)
    .writeInt32(data.firstSequence ?? 0)
    .writeInt32(messages.length).buffer;
  header.copy(buf, BATCH_PREFIX);
  const batchLength = buf.length - (4 + 4 + 8 + 4);
  buf.writeInt32BE(data.partition, 0);
  buf.writeInt32BE(8 + 4 + batchLength, 4);
  buf.writeInt32BE(0, 8); // first offset, high and low
  buf.writeInt32BE(0, 12);
  buf.writeInt32BE(batchLength, 16);
  buf.writeInt32BE(0, 20); // partition leader epoch
  buf.writeInt8(MAGIC, 24);
  buf.writeUInt32BE(parts.crc32C(buf.subarray(CRC_FROM)), 25);
  return asEncoder<KafkaEncoder>(buf, parts.Encoder);
}

/** kafkajs's produce request v3, writing each partition's batch directly; `original` for what it does not handle. */
export function directProduceRequest(
  original: ProduceRequestFactory,
  parts: KafkajsParts,
  noProducerId: unknown,
): ProduceRequestFactory {
  return (args) => {
    const request = original(args);
    if (!handles(args)) return request;
    const { acks, timeout, transactionalId = null, producerEpoch = 0, compression = 0 } = args;
    const batch: BatchArgs = {
      compression,
      producerId: args.producerId ?? noProducerId,
      producerEpoch,
      transactional: !!transactionalId,
    };
    return Object.assign({}, request, {
      encode: async (): Promise<KafkaEncoder> => {
        const topics: KafkaEncoder[] = [];
        for (const { topic, partitions } of args.topicData) {
          const encoded: KafkaEncoder[] = [];
          for (const data of partitions) encoded.push(await encodePartition(parts, data, batch));
          topics.push(new parts.Encoder().writeString(topic).writeArray(encoded));
        }
        return new parts.Encoder()
          .writeString(transactionalId)
          .writeInt16(acks)
          .writeInt32(timeout)
          .writeArray(topics);
      },
    });
  };
}

/** kafkajs's own parts, from its files. */
export function kafkajsParts(): KafkajsParts | undefined {
  const encoder = kafkajsFile("protocol/encoder.js");
  const compression = kafkajsFile("protocol/message/compression/index.js");
  const crc = kafkajsFile("protocol/recordBatch/crc32C/index.js");
  if (encoder === undefined || compression === undefined || crc === undefined) return undefined;
  const codecs = require(compression) as Pick<KafkajsParts, "lookupCodec"> & {
    readonly Codecs: Readonly<Record<number, unknown>>;
  };
  return {
    Encoder: require(encoder) as KafkajsParts["Encoder"],
    lookupCodec: codecs.lookupCodec,
    codecs: codecs.Codecs,
    kafkajsGzip: codecs.Codecs[GZIP],
    crc32C: require(crc) as KafkajsParts["crc32C"],
  };
}

/**
 * Puts {@link directProduceRequest} in the place of kafkajs's produce request v3, keeping kafkajs's
 * own (loaded here, with the record encoder of kafkajs-record.ts) for what it does not handle.
 * Too late once kafkajs loaded v4 or v5, which take v3 when they load. Idempotent.
 */
export function installDirectProduce(): ReplacementState {
  const file = kafkajsFile(PRODUCE_V3);
  const long = kafkajsFile("utils/long.js");
  const parts = kafkajsParts();
  if (file === undefined || long === undefined || parts === undefined) return "not-found";
  installDirectRecords();
  const current = require(file) as ProduceRequestFactory & { direct?: true };
  if (current.direct === true) return "installed";
  const noProducerId = (require(long) as { fromInt(n: number): unknown }).fromInt(-1);
  const direct = Object.assign(directProduceRequest(current, parts, noProducerId), { direct: true as const });
  return replaceKafkajsModule(PRODUCE_V3, NEWER, direct);
}

export const directProduce: ReplacementState = installDirectProduce();
