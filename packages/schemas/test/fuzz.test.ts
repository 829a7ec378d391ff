import { expect } from "chai";
import { DecodeError, RECORD_TYPES, decodeRecord, encodeRecord } from "../src/index.js";
import { registry } from "../src/internal/default-registry.js";
import { MINIMAL, SAMPLES } from "./helpers/samples.js";

/** Small deterministic PRNG so a failure can be replayed from its seed. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Mutation = (bytes: Buffer, random: () => number) => Buffer;

const int = (random: () => number, below: number): number => Math.floor(random() * below);

const MUTATIONS: Readonly<Record<string, Mutation>> = {
  flipBit: (bytes, random) => {
    const out = Buffer.from(bytes);
    const at = 10 + int(random, out.length - 10);
    out[at] = out[at]! ^ (1 << int(random, 8));
    return out;
  },
  randomByte: (bytes, random) => {
    const out = Buffer.from(bytes);
    out[10 + int(random, out.length - 10)] = int(random, 256);
    return out;
  },
  highBits: (bytes, random) => {
    const out = Buffer.from(bytes);
    const at = 10 + int(random, out.length - 10);
    for (let i = at; i < Math.min(out.length, at + 1 + int(random, 8)); i++) out[i] = 0x80 | int(random, 128);
    return out;
  },
  truncate: (bytes, random) => bytes.subarray(0, int(random, bytes.length)),
  insert: (bytes, random) => {
    const at = int(random, bytes.length + 1);
    return Buffer.concat([bytes.subarray(0, at), Buffer.from([int(random, 256)]), bytes.subarray(at)]);
  },
  remove: (bytes, random) => {
    const at = int(random, bytes.length);
    return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
  },
  headerByte: (bytes, random) => {
    const out = Buffer.from(bytes);
    out[int(random, 10)] = int(random, 256);
    return out;
  },
};

describe("decoding damaged bytes", () => {
  const ROUNDS = 1500;

  for (const [name, mutate] of Object.entries(MUTATIONS)) {
    it(`${name}: decodes a valid record or throws DecodeError, nothing else`, () => {
      const random = mulberry32(name.length * 7919);
      let decoded = 0;
      let rejected = 0;
      for (const type of RECORD_TYPES) {
        for (const source of [encodeRecord(type, SAMPLES[type]), encodeRecord(type, MINIMAL[type])]) {
          for (let round = 0; round < ROUNDS; round++) {
            const damaged = mutate(source, random);
            let result: ReturnType<typeof decodeRecord>;
            try {
              result = decodeRecord(damaged);
            } catch (error) {
              if (!(error instanceof DecodeError)) {
                throw new Error(
                  `${type} ${name} round ${round}: ${String(error)} on ${damaged.toString("hex")}`,
                );
              }
              rejected++;
              continue;
            }
            const reader = registry.current[result.type].avroType;
            expect(reader.isValid(result.record), `${type} round ${round}`).to.equal(true);
            expect(reader.fromBuffer(reader.toBuffer(result.record))).to.deep.equal(result.record);
            decoded++;
          }
        }
      }
      expect(rejected, "some mutations must be rejected").to.be.greaterThan(0);
      if (name !== "truncate" && name !== "headerByte") {
        expect(decoded, "some mutations stay decodable").to.be.greaterThan(0);
      }
    });
  }
});
