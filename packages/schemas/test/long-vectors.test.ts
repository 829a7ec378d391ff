import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DecodeError, DecodeErrorReason, decodeRecord, encodeRecord, ValidationError } from "../src/index.js";
import { createAvroType, MAX_LONG } from "../src/internal/avro.js";
import { registry } from "../src/internal/default-registry.js";
import { SAMPLES } from "./helpers/samples.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const { vectors } = JSON.parse(
  readFileSync(path.join(here, "fixtures", "long-vectors", "long.json"), "utf8"),
) as { vectors: { value: string; hex: string }[] };
const inRange = (v: bigint): boolean => v >= -BigInt(MAX_LONG) && v <= BigInt(MAX_LONG);

describe("Avro long: exact within ±2^52, against vectors written by the Apache Avro Python library", () => {
  const long = createAvroType("long");

  for (const { value, hex } of vectors) {
    const exact = BigInt(value);
    if (inRange(exact)) {
      it(`${value} encodes to ${hex} and decodes back`, () => {
        expect(long.toBuffer(Number(exact)).toString("hex")).to.equal(hex);
        expect(long.fromBuffer(Buffer.from(hex, "hex"))).to.equal(Number(exact));
      });
    } else {
      it(`${value} is rejected on decode and on encode`, () => {
        expect(() => long.fromBuffer(Buffer.from(hex, "hex"))).to.throw(/outside ±2\^52/);
        expect(long.isValid(Number(exact))).to.equal(false);
      });
    }
  }

  it("keeps a record's long fields exact at both ends of the range", () => {
    for (const payload of [MAX_LONG, -MAX_LONG, -(2 ** 52 - 1), -(2 ** 31)]) {
      const record = { ...SAMPLES.event, payload_bytes: payload };
      expect(
        (decodeRecord(encodeRecord("event", record)).record as { payload_bytes?: unknown }).payload_bytes,
      ).to.equal(payload);
    }
    expect(() => encodeRecord("event", { ...SAMPLES.event, payload_bytes: -(2 ** 53 - 1) })).to.throw(
      ValidationError,
    );
  });

  it("rejects a record whose long lies outside the range as corrupt, not as a rounded number", () => {
    const { header, avroType } = registry.current.event;
    const body = avroType.toBuffer({ ...SAMPLES.event, payload_bytes: 0 });
    // payload_bytes 0 is the union branch 1 (02) then zig-zag 0 (00): swap in -(2^53 - 1) from the vectors
    const wide = vectors.find((v) => v.value === String(-(2 ** 53 - 1)))!.hex;
    const at = body.indexOf(Buffer.from("0200", "hex"), body.length - 64);
    expect(at).to.be.greaterThan(0);
    const bytes = Buffer.concat([
      header,
      body.subarray(0, at + 1),
      Buffer.from(wide, "hex"),
      body.subarray(at + 2),
    ]);
    let error: unknown;
    try {
      decodeRecord(bytes);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(DecodeError);
    expect((error as DecodeError).reason).to.equal(DecodeErrorReason.Corrupt);
  });
});
