import kafkajs from "kafkajs";
import type { ICustomPartitioner, PartitionerArgs } from "kafkajs";

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const CACHE_LIMIT = 16_384;

/** Kafka's murmur2 (the Java client's `Utils.murmur2`) of a key's UTF-8 bytes. */
export function murmur2(key: string): number {
  let bytes: Uint8Array | null = null;
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) > 0x7f) {
      bytes = Buffer.from(key, "utf8");
      break;
    }
  }
  const length = bytes === null ? key.length : bytes.length;
  const at =
    bytes === null ? (i: number) => key.charCodeAt(i) : (i: number) => (bytes as Uint8Array)[i] as number;
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = at(i) | (at(i + 1) << 8) | (at(i + 2) << 16) | (at(i + 3) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & 3;
  if (tail === 3) h ^= at(whole + 2) << 16;
  if (tail >= 2) h ^= at(whole + 1) << 8;
  if (tail >= 1) h = Math.imul(h ^ at(whole), M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The Java client's default partitioning of keyed records (`murmur2(key) & 0x7fffffff %
 * partitions`, the same as kafkajs's DefaultPartitioner), with the hash of recent keys
 * cached: every record of a trace has the same key. Records without a key go to kafkajs's
 * DefaultPartitioner.
 */
export const TraceKeyPartitioner: ICustomPartitioner = () => {
  const fallback = kafkajs.Partitioners.DefaultPartitioner();
  const hashes = new Map<string, number>();
  return (args: PartitionerArgs): number => {
    const { message, partitionMetadata } = args;
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const key = message.key;
    if (typeof key !== "string") return fallback(args);
    let hash = hashes.get(key);
    if (hash === undefined) {
      hash = murmur2(key) & 0x7fffffff;
      if (hashes.size >= CACHE_LIMIT) hashes.clear();
      hashes.set(key, hash);
    }
    return hash % partitionMetadata.length;
  };
};
