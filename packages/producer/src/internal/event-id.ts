import { randomFillSync } from "node:crypto";

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const POOL_BYTES = 8 * 1024;
const RANDOM_BYTES_PER_ID = 8;

const pool = Buffer.allocUnsafe(POOL_BYTES);
let poolOffset = POOL_BYTES;
let lastMs = -1;
let counter = 0;

/**
 * A UUIDv7 (RFC 9562) for the emit hot path: 48-bit Unix milliseconds, a 12-bit counter
 * (method 1: monotonic within the process) and 62 random bits from a pooled CSPRNG
 * buffer. Same format as the schemas package's `newEventId`, about ten times cheaper.
 */
export function fastEventId(): string {
  let ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    counter = nextRandomByte() & 0x3ff;
  } else {
    counter += 1;
    if (counter > 0xfff) {
      lastMs += 1;
      counter = 0;
    }
    ms = lastMs;
  }
  if (poolOffset + RANDOM_BYTES_PER_ID > POOL_BYTES) refill();
  const r = poolOffset;
  poolOffset += RANDOM_BYTES_PER_ID;
  const high = Math.floor(ms / 0x1000000);
  const low = ms % 0x1000000;
  return (
    HEX[(high >>> 16) & 0xff]! +
    HEX[(high >>> 8) & 0xff]! +
    HEX[high & 0xff]! +
    HEX[(low >>> 16) & 0xff]! +
    "-" +
    HEX[(low >>> 8) & 0xff]! +
    HEX[low & 0xff]! +
    "-" +
    HEX[0x70 | (counter >>> 8)]! +
    HEX[counter & 0xff]! +
    "-" +
    HEX[0x80 | (pool[r]! & 0x3f)]! +
    HEX[pool[r + 1]!]! +
    "-" +
    HEX[pool[r + 2]!]! +
    HEX[pool[r + 3]!]! +
    HEX[pool[r + 4]!]! +
    HEX[pool[r + 5]!]! +
    HEX[pool[r + 6]!]! +
    HEX[pool[r + 7]!]!
  );
}

function refill(): void {
  randomFillSync(pool);
  poolOffset = 0;
}

function nextRandomByte(): number {
  if (poolOffset >= POOL_BYTES) refill();
  const byte = pool[poolOffset]!;
  poolOffset += 1;
  return byte;
}
