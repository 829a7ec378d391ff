// The producer puts a record encoder of its own in kafkajs's place (kafkajs's allocates a zeroed
// 512-byte buffer per record and per header): it must write exactly kafkajs's bytes, leave what it
// does not handle to kafkajs, and kafkajs's produce request must really use it.
import { createRequire } from "node:module";
import { expect } from "chai";
import { directRecordEncoder } from "../src/internal/kafkajs-record.js";
import type { RecordArgs, RecordEncoder } from "../src/internal/kafkajs-record.js";
import {
  kafkajsOriginal,
  replacementAfterImport,
  replacementAfterKafkajs,
} from "./helpers/kafkajs-original.js";

const require = createRequire(import.meta.url);
const original = kafkajsOriginal<RecordEncoder>("protocol/recordBatch/record/v0/index.js");
const Encoder = require("kafkajs/src/protocol/encoder.js") as { prototype: object };
const direct = directRecordEncoder(original, Encoder);

/** What each encoder writes, or the error it throws. */
function outcome(encode: RecordEncoder, args: RecordArgs): string {
  try {
    return encode(args).buffer.toString("hex");
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

function expectSameBytes(args: RecordArgs): void {
  expect(outcome(direct, args), JSON.stringify(args)).to.equal(outcome(original, args));
}

describe("kafkajs's record encoder, replaced", () => {
  it("writes the bytes kafkajs writes, for random keys, values, headers and deltas", () => {
    let seed = 11;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const text = (): string =>
      ["", "a", "trace-7", "é", "日本語", "🙂", "x".repeat(200), "y".repeat(70_000)][random(8)]!;
    const bytes = (): string | Buffer | null | undefined =>
      [null, undefined, text(), Buffer.from(text()), Buffer.alloc(random(3000), 7)][random(5)];
    const deltas = [0, 1, 63, 64, 127, 128, 8191, 8192, 2 ** 20, 2 ** 31 - 1, -1, -64, -65, -(2 ** 31) + 1];
    for (let i = 0; i < 500; i++) {
      const headers: Record<string, string | Buffer | (string | Buffer)[]> = {};
      for (let h = random(5); h > 0; h--) {
        headers[text() || "k"] = random(4) === 0 ? [text(), Buffer.from(text())] : (bytes() ?? "v");
      }
      expectSameBytes({
        key: bytes(),
        value: bytes(),
        headers: random(2) === 0 ? Object.freeze(headers) : headers,
        offsetDelta: deltas[random(deltas.length)],
        timestampDelta: deltas[random(deltas.length)],
      });
    }
    expectSameBytes({ value: "only a value" });
  });

  it("leaves to kafkajs what it does not write itself: its bytes, or the error it throws", () => {
    for (const args of [
      { value: "v", timestampDelta: 2 ** 40 }, // a varlong beyond 32 bits
      { value: "v", timestampDelta: -(2 ** 35) },
      { value: "v", offsetDelta: 2.5 },
      { value: "v", headers: { n: 7 } as unknown as Record<string, string> }, // kafkajs throws
      { value: "v", headers: { n: null } as unknown as Record<string, string> },
      { value: 42 as unknown as string }, // kafkajs throws
    ]) {
      expectSameBytes(args);
    }
  });

  it("encodes a frozen headers object once, and a mutable one every time", () => {
    const frozen = Object.freeze({ traceparent: "00-a-b-01" });
    const mutable: Record<string, string> = { traceparent: "00-a-b-01" };
    expectSameBytes({ value: "v", headers: frozen });
    expectSameBytes({ value: "v", headers: mutable });
    mutable["traceparent"] = "00-changed-01";
    mutable["baggage"] = "user_id=u";
    expectSameBytes({ value: "v", headers: mutable });
    expect(direct({ value: "v", headers: frozen }).buffer).to.deep.equal(
      original({ value: "v", headers: frozen }).buffer,
    );
  });

  it("is the encoder kafkajs's produce request uses once the producer is imported first", () => {
    expect(
      replacementAfterImport(
        "directRecords",
        "protocol/recordBatch/record/v0/index.js",
        "protocol/requests/produce/v3/request.js",
      ),
    ).to.deep.equal({ state: "installed", used: true, direct: true });
  });

  it("leaves kafkajs as it is when the application loaded its produce request first", () => {
    expect(replacementAfterKafkajs("directRecords", "protocol/requests/produce/v3/request.js")).to.equal(
      "kafkajs-loaded-first",
    );
  });
});
