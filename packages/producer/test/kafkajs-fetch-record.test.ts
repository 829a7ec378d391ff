// The worker's fetches decode records through a decoder of ours in kafkajs's place (kafkajs's parses
// the batch's first offset and timestamp from strings again for every record and spreads the
// headers object once per header): it must give exactly kafkajs's record, leave what it does not
// handle to kafkajs, and be the decoder kafkajs's record batch decoder really uses.
import { createRequire } from "node:module";
import { inspect } from "node:util";
import { expect } from "chai";
import { directRecordDecoder } from "../src/internal/kafkajs-fetch-record.js";
import type {
  KafkaDecoder,
  RecordBatchContext,
  RecordDecoder,
} from "../src/internal/kafkajs-fetch-record.js";
import type { RecordArgs, RecordEncoder } from "../src/internal/kafkajs-record.js";
import {
  kafkajsOriginal,
  replacementAfterImport,
  replacementAfterKafkajs,
} from "./helpers/kafkajs-original.js";

const require = createRequire(import.meta.url);
const original = kafkajsOriginal<RecordDecoder>("protocol/recordBatch/record/v0/decoder.js");
const encodeRecord = kafkajsOriginal<RecordEncoder>("protocol/recordBatch/record/v0/index.js");
const Decoder = require("kafkajs/src/protocol/decoder.js") as new (buffer: Buffer) => KafkaDecoder;
const direct = directRecordDecoder(original);

/** A record's bytes as a record batch holds them (its length prefix read off). */
function recordBytes(args: RecordArgs): Buffer {
  const prefixed = new Decoder(encodeRecord(args).buffer);
  return prefixed.readVarIntBytes()!;
}

/** What a decoder gives for these bytes (the record, every own property, and where it stopped), or its error. */
function outcome(decode: RecordDecoder, bytes: Buffer, context: RecordBatchContext): string {
  const decoder = new Decoder(bytes);
  try {
    const record = decode(decoder, context) as { headers: object };
    const names = Object.getOwnPropertyNames(record.headers);
    return inspect(
      { record, names, proto: Object.getPrototypeOf(record.headers), at: decoder.offset },
      { depth: 5 },
    );
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

function expectSameRecord(args: RecordArgs, context: RecordBatchContext): void {
  const bytes = recordBytes(args);
  expect(outcome(direct, bytes, context), inspect({ args, context })).to.equal(
    outcome(original, bytes, context),
  );
}

const context = (changes: Partial<RecordBatchContext> = {}): RecordBatchContext => ({
  firstOffset: "120034",
  firstTimestamp: "1764000000123",
  maxTimestamp: "1764000009999",
  magicByte: 2,
  timestampType: 0,
  isControlBatch: false,
  ...changes,
});

describe("kafkajs's fetched-record decoder, replaced", () => {
  it("gives the record kafkajs gives, for random keys, values, headers, deltas and batch offsets", () => {
    let seed = 5;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const text = (): string => ["", "a", "traceparent", "é", "日本語", "🙂", "x".repeat(300)][random(7)]!;
    const bytes = (): string | Buffer | null => [null, text(), Buffer.alloc(random(2000), 3)][random(3)]!;
    const deltas = [0, 1, 63, 64, 8191, 8192, 2 ** 20, 2 ** 31 - 1, -1, -64, -65, -(2 ** 31) + 1];
    const offsets = ["0", "7", "120034", "999999999999999", "-1"];
    const times = ["0", "-1", "1764000000123", "999999999999999"];
    for (let i = 0; i < 500; i++) {
      const headers: Record<string, string | Buffer | (string | Buffer)[]> = {};
      for (let h = random(5); h > 0; h--) {
        headers[text() || "k"] = random(4) === 0 ? [text(), Buffer.from(text()), "third"] : (bytes() ?? "v");
      }
      expectSameRecord(
        {
          key: bytes(),
          value: bytes(),
          headers,
          offsetDelta: Math.abs(deltas[random(deltas.length)]!),
          timestampDelta: deltas[random(deltas.length)],
        },
        context({
          firstOffset: offsets[random(offsets.length)],
          firstTimestamp: times[random(times.length)],
          timestampType: random(2),
          isControlBatch: random(5) === 0,
        }),
      );
    }
  });

  it("keeps kafkajs's answer for header names an object has already, and for __proto__", () => {
    for (const name of ["__proto__", "toString", "constructor", "hasOwnProperty"]) {
      expectSameRecord({ value: "v", headers: { [name]: "x", other: "y" } }, context());
    }
    const bytes = recordBytes({ value: "v", headers: { ["__proto__"]: "x" } });
    const record = direct(new Decoder(bytes), context()) as { headers: object };
    expect(Object.getPrototypeOf(record.headers)).to.equal(Object.prototype);
  });

  it("leaves to kafkajs the offsets, timestamps and deltas a double does not hold exactly", () => {
    for (const changes of [
      { firstOffset: "9007199254740993" },
      { firstTimestamp: "-9223372036854775808" },
      { firstOffset: undefined },
    ]) {
      expectSameRecord({ value: "v" }, context(changes));
    }
    expectSameRecord({ value: "v", timestampDelta: 2 ** 52 } as RecordArgs, context());
    expectSameRecord({ value: "v", timestampDelta: -(2 ** 50) } as RecordArgs, context());
  });

  it("is the decoder kafkajs's record batch decoder uses once the producer is imported first", () => {
    expect(
      replacementAfterImport(
        "directFetchRecords",
        "protocol/recordBatch/record/v0/decoder.js",
        "protocol/recordBatch/v0/decoder.js",
      ),
    ).to.deep.equal({ state: "installed", used: true, direct: true });
  });

  it("leaves kafkajs as it is when the application loaded its record batch decoder first", () => {
    expect(replacementAfterKafkajs("directFetchRecords", "protocol/recordBatch/v0/decoder.js")).to.equal(
      "kafkajs-loaded-first",
    );
  });
});
