import { expect } from "chai";
import {
  DecodeError,
  DecodeErrorReason,
  NonRetriableError,
  RECORD_TYPES,
  ValidationError,
  avroSchemaOf,
  currentSchemaVersion,
  decodeRecord,
  encodeRecord,
  isRetriable,
  schemaFingerprintOf,
} from "../src/index.js";
import type { DecodedRecord, RecordInputOf, RecordType } from "../src/index.js";
import { encodeWithVersion } from "../src/codec.js";
import { registry } from "../src/internal/default-registry.js";
import { MINIMAL, SAMPLES } from "./helpers/samples.js";

function decodeError(bytes: Uint8Array): DecodeError {
  try {
    decodeRecord(bytes);
  } catch (error) {
    expect(error).to.be.instanceOf(DecodeError);
    return error as DecodeError;
  }
  throw new Error("expected a DecodeError");
}

function validationError(type: RecordType, record: unknown): ValidationError {
  try {
    encodeRecord(type, record as RecordInputOf<typeof type>);
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error("expected a ValidationError");
}

describe("encodeRecord / decodeRecord", () => {
  for (const type of RECORD_TYPES) {
    it(`round-trips a realistic ${type} record`, () => {
      const bytes = encodeRecord(type, SAMPLES[type]);
      expect(bytes.subarray(0, 2).toString("hex")).to.equal("c301");
      expect(bytes.subarray(2, 10).toString("hex")).to.equal(schemaFingerprintOf(type));
      const decoded = decodeRecord(bytes);
      expect(decoded.type).to.equal(type);
      expect(decoded.version).to.equal(currentSchemaVersion(type));
      expect(decoded.record).to.deep.equal(SAMPLES[type]);
    });

    it(`fills the defaults of a minimal ${type} record`, () => {
      const decoded = decodeRecord(encodeRecord(type, MINIMAL[type]));
      const fields = (avroSchemaOf(type) as { fields: { name: string; default?: unknown }[] }).fields;
      const record = decoded.record as unknown as Record<string, unknown>;
      for (const field of fields) {
        const given = (MINIMAL[type] as Record<string, unknown>)[field.name];
        expect(record[field.name], field.name).to.deep.equal(given === undefined ? field.default : given);
      }
    });
  }

  it("narrows the decoded record by its type", () => {
    const decoded: DecodedRecord = decodeRecord(encodeRecord("span", SAMPLES.span));
    if (decoded.type !== "span") throw new Error("expected a span");
    expect(decoded.record.events.map((event) => event.name)).to.deep.equal([
      "request.sent",
      "response.received",
    ]);
  });

  it("keeps strings, maps and numbers exactly", () => {
    const record = {
      ...SAMPLES.event,
      name: "emoji 🚀 and ünïcödé and \u0000 nul",
      duration_ms: 0.1 + 0.2,
      payload_bytes: 2 ** 52,
      attributes: { "": "", "key with spaces": "x".repeat(10_000), ключ: "значение" },
    };
    expect(decodeRecord(encodeRecord("event", record)).record).to.deep.equal(record);
  });

  it("decodes from a plain Uint8Array view at an offset", () => {
    const bytes = encodeRecord("metrics", SAMPLES.metrics);
    const backing = new Uint8Array(bytes.length + 7);
    backing.set(bytes, 7);
    expect(decodeRecord(backing.subarray(7)).record).to.deep.equal(SAMPLES.metrics);
  });

  it("reads execution v1 bytes into the current reader with the v2 field set to null", () => {
    const v1 = registry.versions.execution[0]!;
    const { retry_of_execution_id: _dropped, ...asV1 } = SAMPLES.execution;
    const bytes = encodeWithVersion("execution", v1, asV1);
    expect(bytes.subarray(2, 10).toString("hex")).to.equal(schemaFingerprintOf("execution", 1));
    const decoded = decodeRecord(bytes);
    expect(decoded.version).to.equal(1);
    expect(decoded.record).to.deep.equal({ ...asV1, retry_of_execution_id: null });
  });

  it("encodes with the latest version and distinct fingerprints per version", () => {
    expect(currentSchemaVersion("execution")).to.equal(2);
    expect(schemaFingerprintOf("execution", 1)).to.not.equal(schemaFingerprintOf("execution", 2));
    const fingerprints = RECORD_TYPES.map((type) => schemaFingerprintOf(type));
    expect(new Set(fingerprints).size).to.equal(RECORD_TYPES.length);
  });

  describe("validation", () => {
    it("rejects a missing required field with its path and writes nothing", () => {
      const { status: _status, ...record } = SAMPLES.execution;
      const error = validationError("execution", record);
      expect(error.code).to.equal("VALIDATION");
      expect(error.retriable).to.equal(false);
      expect(error).to.be.instanceOf(NonRetriableError);
      expect(isRetriable(error)).to.equal(false);
      expect(error.recordType).to.equal("execution");
      expect(error.path).to.equal("status");
      expect(error.message).to.contain("status");
    });

    it("reports nested paths and every offending field", () => {
      const error = validationError("span", {
        ...SAMPLES.span,
        kind: "SIDEWAYS",
        events: [SAMPLES.span.events[0], { name: "late", time: 1.5, attributes: { n: 1 } }],
      });
      expect(error.issues.map((issue) => issue.path)).to.deep.equal([
        "kind",
        "events.1.time",
        "events.1.attributes.n",
      ]);
    });

    it("rejects values outside the Avro types", () => {
      expect(validationError("event", { ...SAMPLES.event, payload_bytes: 2 ** 60 }).path).to.equal(
        "payload_bytes",
      );
      expect(validationError("event", { ...SAMPLES.event, status: 42 }).path).to.equal("status");
      expect(validationError("error", { ...SAMPLES.error, retriable: "yes" }).path).to.equal("retriable");
      expect(validationError("execution", { ...SAMPLES.execution, metadata: { a: null } }).path).to.equal(
        "metadata.a",
      );
      expect(validationError("execution", { ...SAMPLES.execution, event_time: "now" }).path).to.equal(
        "event_time",
      );
    });

    it("rejects NaN and ±Infinity with the field path", () => {
      expect(validationError("event", { ...SAMPLES.event, duration_ms: Number.NaN }).path).to.equal(
        "duration_ms",
      );
      expect(validationError("event", { ...SAMPLES.event, duration_ms: Infinity }).message).to.contain(
        "Infinity",
      );
      const span = { ...SAMPLES.span, events: [{ ...SAMPLES.span.events[0]!, time: -Infinity }] };
      expect(validationError("span", span).path).to.equal("events.0.time");
    });

    it("enforces the envelope identifiers", () => {
      expect(
        validationError("event", { ...SAMPLES.event, trace_id: "4BF92F3577B34DA6A3CE929D0E0E4736" }).path,
      ).to.equal("trace_id");
      expect(validationError("event", { ...SAMPLES.event, trace_id: "0".repeat(32) }).path).to.equal(
        "trace_id",
      );
      expect(validationError("event", { ...SAMPLES.event, span_id: "abc" }).path).to.equal("span_id");
      expect(validationError("event", { ...SAMPLES.event, parent_span_id: "0".repeat(16) }).path).to.equal(
        "parent_span_id",
      );
      expect(validationError("event", { ...SAMPLES.event, event_id: "not-a-uuid" }).path).to.equal(
        "event_id",
      );
    });

    it("rejects non-records and unknown record types", () => {
      expect(validationError("event", null).path).to.equal("");
      expect(validationError("event", [SAMPLES.event]).message).to.contain("expected a record");
      expect(validationError("audit" as RecordType, SAMPLES.event).message).to.contain(
        "unknown record type audit",
      );
    });

    it("leaves the encoder usable after a failure", () => {
      validationError("span", { ...SAMPLES.span, links: [{ trace_id: 1 }] });
      expect(decodeRecord(encodeRecord("span", SAMPLES.span)).record).to.deep.equal(SAMPLES.span);
    });

    it("encodes records larger than its scratch buffer", () => {
      const record = { ...SAMPLES.error, stack: "at frame\n".repeat(20_000) };
      const bytes = encodeRecord("error", record);
      expect(bytes.length).to.be.greaterThan(180_000);
      expect(decodeRecord(bytes).record).to.deep.equal(record);
    });
  });

  describe("decode errors", () => {
    const valid = encodeRecord("span", SAMPLES.span);

    it("rejects a wrong marker", () => {
      for (const bytes of [
        Buffer.from("{}"),
        Buffer.from([0xc3, 0x02, ...valid.subarray(2)]),
        Buffer.from([0x00]),
      ]) {
        const error = decodeError(bytes);
        expect(error.reason).to.equal(DecodeErrorReason.BadMarker);
        expect(error.code).to.equal("DECODE");
        expect(error.retriable).to.equal(false);
      }
    });

    it("rejects an unknown fingerprint", () => {
      const bytes = Buffer.from(valid);
      bytes[5] = bytes[5]! ^ 0xff;
      expect(decodeError(bytes).reason).to.equal(DecodeErrorReason.UnknownFingerprint);
    });

    it("rejects missing bytes as empty", () => {
      for (const bytes of [null, undefined, Buffer.alloc(0), new Uint8Array(0)]) {
        expect(decodeError(bytes as Uint8Array).reason).to.equal(DecodeErrorReason.Empty);
      }
    });

    it("rejects things that are not bytes without crashing", () => {
      for (const value of ["c301", 42, { length: 12 }, [0xc3, 0x01]]) {
        expect(decodeError(value as unknown as Uint8Array).reason).to.equal(DecodeErrorReason.BadMarker);
      }
    });

    it("rejects every truncation as truncated", () => {
      for (let length = 1; length < valid.length; length++) {
        const error = decodeError(valid.subarray(0, length));
        expect(error.reason, `length ${length}`).to.equal(DecodeErrorReason.Truncated);
        expect(error.recordType, `length ${length}`).to.equal(length >= 10 ? "span" : null);
      }
    });

    it("rejects trailing bytes", () => {
      const error = decodeError(Buffer.concat([valid, Buffer.from([0])]));
      expect(error.reason).to.equal(DecodeErrorReason.TrailingBytes);
      expect(error.recordType).to.equal("span");
      expect(error.version).to.equal(1);
    });

    it("rejects an enum index outside the symbols as corrupt", () => {
      const header = registry.current.correlation.header;
      const body = registry.current.correlation.avroType.toBuffer(SAMPLES.correlation);
      const bytes = Buffer.concat([header, body]);
      // relationship is the last field: one zig-zag varint.
      bytes[bytes.length - 1] = 2 * 9;
      const error = decodeError(bytes);
      expect(error.reason).to.equal(DecodeErrorReason.Corrupt);
      expect(error.cause).to.be.instanceOf(Error);
    });

    it("rejects an overlong block-count varint", () => {
      const { header, avroType } = registry.current.span;
      const body = avroType.toBuffer({ ...SAMPLES.span, events: [], links: [] });
      const bytes = Buffer.concat([header, body.subarray(0, body.length - 1), Buffer.alloc(200, 0xff)]);
      expect(decodeError(bytes).reason).to.be.oneOf([DecodeErrorReason.Truncated, DecodeErrorReason.Corrupt]);
    });

    it("rejects a huge block count quickly instead of looping", () => {
      const { header, avroType } = registry.current.span;
      const body = avroType.toBuffer({ ...SAMPLES.span, events: [], links: [] });
      // links is the last field, an empty array encoded as a single 0; claim 2^50 items instead.
      const count = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x04]);
      const bytes = Buffer.concat([header, body.subarray(0, body.length - 1), count, Buffer.alloc(40)]);
      const started = performance.now();
      expect(decodeError(bytes).reason).to.equal(DecodeErrorReason.Truncated);
      expect(performance.now() - started).to.be.lessThan(100);
    });
  });
});
