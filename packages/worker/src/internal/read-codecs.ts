import { createRequire } from "node:module";
import { ensureLz4Codec, hasUsableCodec } from "@tracehouse/producer";
import { decompress as zstdDecompress } from "fzstd";
import kafkajs from "kafkajs";

const { CompressionCodecs, CompressionTypes } = kafkajs;

interface Snappy {
  uncompress(compressed: Uint8Array): Uint8Array;
}

/** snappy-java's stream header, which Kafka's Java clients write before the snappy blocks. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
/** The magic, then a version and a compatible version (int32 each). */
const XERIAL_HEADER_BYTES = 16;

/**
 * A snappy batch as Kafka clients write it: the xerial framing of the Java clients (a header, then
 * blocks each preceded by its int32 length) or one raw snappy block.
 */
export function unsnappy(snappy: Snappy, buffer: Buffer): Buffer {
  if (buffer.length < XERIAL_HEADER_BYTES || !buffer.subarray(0, 8).equals(XERIAL_MAGIC))
    return Buffer.from(snappy.uncompress(buffer));
  const blocks: Buffer[] = [];
  for (let at = XERIAL_HEADER_BYTES; at < buffer.length;) {
    if (at + 4 > buffer.length) throw new Error("snappy: truncated block length");
    const length = buffer.readInt32BE(at);
    at += 4;
    if (length < 0 || at + length > buffer.length) throw new Error("snappy: truncated block");
    blocks.push(Buffer.from(snappy.uncompress(buffer.subarray(at, at + length))));
    at += length;
  }
  return Buffer.concat(blocks);
}

function readOnly(name: string, decompress: (buffer: Buffer) => Buffer): () => unknown {
  return () => ({
    compress: () => {
      throw new Error(`${name}: the worker reads this compression, it does not write it`);
    },
    decompress: async (buffer: Buffer) => decompress(buffer),
  });
}

/**
 * Registers, unless the application did, a codec for every compression a Kafka producer may use
 * and kafkajs cannot read by itself: lz4 (the producer's codec), and zstd and snappy, read only
 * (pure JavaScript: `fzstd`, `snappyjs`), for producers in other languages. Without them the fetch
 * that holds such a batch fails again on every retry and the worker stops advancing.
 */
export function ensureReadCodecs(): void {
  ensureLz4Codec();
  const codecs = CompressionCodecs as Record<number, () => unknown>;
  if (!hasUsableCodec(CompressionTypes.ZSTD))
    codecs[CompressionTypes.ZSTD] = readOnly("zstd", (buffer) => Buffer.from(zstdDecompress(buffer)));
  if (!hasUsableCodec(CompressionTypes.Snappy)) {
    const snappy = createRequire(import.meta.url)("snappyjs") as Snappy;
    codecs[CompressionTypes.Snappy] = readOnly("snappy", (buffer) => unsnappy(snappy, buffer));
  }
}
