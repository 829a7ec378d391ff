import { createRequire } from "node:module";
import kafkajs from "kafkajs";
import type * as Lz4Module from "lz4-napi";

type Lz4 = typeof Lz4Module;

const { CompressionCodecs, CompressionTypes } = kafkajs;

/**
 * Registers an LZ4 codec (the LZ4 frame format Kafka uses, from `lz4-napi`) in kafkajs's
 * `CompressionCodecs`, unless the application registered one; the native module is loaded
 * here, only by a producer that asks for lz4 and by the worker, whose consumers must read the lz4
 * batches of agents in other processes.
 */
export function ensureLz4Codec(): void {
  if (hasUsableCodec(CompressionTypes.LZ4)) return;
  const codecs = CompressionCodecs as Record<number, (() => unknown) | undefined>;
  const lz4 = createRequire(import.meta.url)("lz4-napi") as Lz4;
  codecs[CompressionTypes.LZ4] = () => ({
    compress: (encoder: { readonly buffer: Buffer }) => lz4.compressFrame(encoder.buffer),
    decompress: (buffer: Buffer) => lz4.decompressFrame(buffer),
  });
}

/**
 * Whether kafkajs has a working codec of this compression type: its own entry for a codec it lacks
 * is a function that throws "not implemented".
 */
export function hasUsableCodec(type: number): boolean {
  const codec = (CompressionCodecs as Record<number, (() => unknown) | undefined>)[type];
  if (codec === undefined) return false;
  try {
    codec();
    return true;
  } catch {
    return false;
  }
}
