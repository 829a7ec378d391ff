import { randomInt } from "node:crypto";

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const CACHE_LIMIT = 16_384;

/** What a Kafka client tells its partitioner; kafkajs's `PartitionerArgs` has this shape. */
export interface PartitionerInput {
  readonly topic: string;
  readonly partitionMetadata: readonly { readonly partitionId: number; readonly leader: number }[];
  readonly message: {
    readonly key?: string | Uint8Array | null;
    readonly partition?: number | null;
  };
}

/** Chooses a record's partition; usable as a kafkajs partitioner (`createPartitioner`). */
export type Partitioner = (input: PartitionerInput) => number;

/** Kafka's murmur2 (the Java client's `Utils.murmur2`) of a key's UTF-8 bytes. */
export function murmur2(key: string | Uint8Array): number {
  let bytes: Uint8Array | null = typeof key === "string" ? null : key;
  if (typeof key === "string") {
    for (let i = 0; i < key.length; i++) {
      if (key.charCodeAt(i) > 0x7f) {
        bytes = Buffer.from(key, "utf8");
        break;
      }
    }
  }
  const length = bytes === null ? key.length : bytes.length;
  const at =
    bytes === null
      ? (i: number) => (key as string).charCodeAt(i)
      : (i: number) => (bytes as Uint8Array)[i] as number;
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

/** The partition the Java client (and kafkajs's DefaultPartitioner) gives a keyed record. */
export function partitionOf(key: string | Uint8Array, partitionCount: number): number {
  return (murmur2(key) & 0x7fffffff) % partitionCount;
}

/**
 * The Java client's default partitioning, as kafkajs's DefaultPartitioner does it: an
 * explicit partition wins, a keyed record goes to `partitionOf(key)`, a record without a
 * key goes round-robin over the partitions that have a leader. The hash of recent string
 * keys is cached, since every record of a trace has the same key (its trace id).
 */
export function createTraceIdPartitioner(): Partitioner {
  const hashes = new Map<string, number>();
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const key = message.key;
    if (typeof key === "string") {
      let hash = hashes.get(key);
      if (hash === undefined) {
        hash = murmur2(key) & 0x7fffffff;
        if (hashes.size >= CACHE_LIMIT) hashes.clear();
        hashes.set(key, hash);
      }
      return hash % partitionMetadata.length;
    }
    if (key !== null && key !== undefined) return partitionOf(key, partitionMetadata.length);
    const next = ((counters.get(topic) ?? randomInt(0x7fffffff)) + 1) & 0x7fffffff;
    counters.set(topic, next);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    if (available.length === 0) return next % partitionMetadata.length;
    return available[next % available.length]!.partitionId;
  };
}
