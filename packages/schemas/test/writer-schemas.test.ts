import { expect } from "chai";
import {
  DecodeError,
  DecodeErrorReason,
  ErrorCode,
  NonRetriableError,
  SchemaResolutionError,
  SchemaResolutionReason,
  avroSchemaOf,
  decodeRecord,
  encodeRecord,
  fingerprintOfRecord,
  sameRecordHeader,
  fingerprintOfSchema,
  registerWriterSchema,
  schemaFingerprintOf,
  writerSchemaOf,
} from "../src/index.js";
import { createAvroType, fingerprintOf } from "../src/internal/avro.js";
import { writeSingleObject } from "../src/internal/single-object.js";
import { SAMPLES } from "./helpers/samples.js";

type Schema = { fields: { name: string; type: unknown; default?: unknown }[] } & Record<string, unknown>;

/** The current execution schema plus one field: what a newer writer could ship. */
function executionWith(field: { name: string; type: unknown; default?: unknown }): Schema {
  const current = structuredClone(avroSchemaOf("execution")) as Schema;
  current.fields.push(field);
  return current;
}

function encodeWith(schema: unknown, record: unknown): Buffer {
  const type = createAvroType(schema);
  const header = Buffer.concat([Buffer.from([0xc3, 0x01]), fingerprintOf(type)]);
  return writeSingleObject(header, type, record);
}

function rejection(run: () => unknown): SchemaResolutionError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(SchemaResolutionError);
    return error as SchemaResolutionError;
  }
  throw new Error("expected a SchemaResolutionError");
}

describe("writer schemas registered at run time", () => {
  it("reads the fingerprint in a record header", () => {
    const bytes = encodeRecord("event", SAMPLES.event);
    expect(fingerprintOfRecord(bytes)).to.equal(schemaFingerprintOf("event"));
    expect(fingerprintOfRecord(Buffer.from("nope"))).to.equal(null);
    expect(fingerprintOfRecord(bytes.subarray(0, 9))).to.equal(null);
    expect(fingerprintOfRecord(null)).to.equal(null);
  });

  it("tells records with the same header (marker and fingerprint) apart from others", () => {
    const event = encodeRecord("event", SAMPLES.event);
    const otherEvent = encodeRecord("event", { ...SAMPLES.event, name: "another" });
    const error = encodeRecord("error", SAMPLES.error);
    expect(sameRecordHeader(event, otherEvent)).to.equal(true);
    expect(sameRecordHeader(event, error)).to.equal(false);
    expect(sameRecordHeader(event.subarray(0, 9), event.subarray(0, 9)), "shorter than a header").to.equal(
      false,
    );
  });

  it("knows every shipped version by fingerprint", () => {
    const v1 = writerSchemaOf(schemaFingerprintOf("execution", 1))!;
    expect(v1.recordType).to.equal("execution");
    expect(v1.version).to.equal(1);
    expect(JSON.parse(v1.json)).to.deep.equal(avroSchemaOf("execution", 1));
    expect(writerSchemaOf("00000000deadbeef")).to.equal(null);
  });

  it("decodes a newer writer's records once its schema is registered, and not before", () => {
    const v3 = executionWith({ name: "cost_usd", type: ["null", "double"], default: null });
    const record = { ...SAMPLES.execution, cost_usd: 0.25 };
    const bytes = encodeWith(v3, record);

    let before: unknown;
    try {
      decodeRecord(bytes);
    } catch (error) {
      before = error;
    }
    expect(before).to.be.instanceOf(DecodeError);
    expect((before as DecodeError).reason).to.equal(DecodeErrorReason.UnknownFingerprint);

    const fingerprint = fingerprintOfRecord(bytes)!;
    expect(fingerprintOfSchema(v3)).to.equal(fingerprint);
    expect(fingerprintOfSchema(JSON.stringify(v3))).to.equal(fingerprint);
    expect(fingerprintOfSchema(avroSchemaOf("event") as object)).to.equal(schemaFingerprintOf("event"));
    const registered = registerWriterSchema(JSON.stringify(v3), { expectedFingerprint: fingerprint });
    expect(registered).to.deep.include({ fingerprint, recordType: "execution", version: 0 });
    expect(writerSchemaOf(fingerprint)).to.deep.equal(registered);

    const decoded = decodeRecord(bytes);
    expect(decoded.type).to.equal("execution");
    expect(decoded.version).to.equal(0);
    expect(decoded.record).to.deep.equal(SAMPLES.execution);
    expect(decoded.record).to.not.have.property("cost_usd");
    expect(registerWriterSchema(v3)).to.deep.equal(registered);
  });

  it("rejects a schema the reader cannot resolve, with a typed error, and stays unable to read it", () => {
    const changed = structuredClone(avroSchemaOf("execution")) as Schema;
    const field = changed.fields.find((f) => f.name === "duration_ms")!;
    field.type = ["null", "string"];
    const bytes = encodeWith(changed, { ...SAMPLES.execution, duration_ms: "slow" });
    const error = rejection(() => registerWriterSchema(changed));
    expect(error.reason).to.equal(SchemaResolutionReason.Incompatible);
    expect(error.recordType).to.equal("execution");
    expect(error.code).to.equal(ErrorCode.Schema);
    expect(error).to.be.instanceOf(NonRetriableError);
    expect(writerSchemaOf(fingerprintOfRecord(bytes)!)).to.equal(null);
    expect(() => decodeRecord(bytes)).to.throw(DecodeError, /unknown writer schema/);
  });

  it("rejects a new required field without a default the reader needs, a foreign record, bad JSON and a wrong key", () => {
    const required = structuredClone(avroSchemaOf("execution")) as Schema;
    required.fields = required.fields.filter((f) => f.name !== "status");
    // the reader's status has no default: a writer without it cannot be read
    expect(rejection(() => registerWriterSchema(required)).reason).to.equal(
      SchemaResolutionReason.Incompatible,
    );
    const foreign = { ...executionWith({ name: "x", type: "int", default: 0 }), name: "Invoice" };
    expect(rejection(() => registerWriterSchema(foreign)).reason).to.equal(
      SchemaResolutionReason.UnknownRecord,
    );
    expect(rejection(() => registerWriterSchema("{not json")).reason).to.equal(
      SchemaResolutionReason.Invalid,
    );
    expect(rejection(() => registerWriterSchema({ type: "record", name: "X" })).reason).to.equal(
      SchemaResolutionReason.Invalid,
    );
    expect(rejection(() => registerWriterSchema(`"${"x".repeat(300_000)}"`)).reason).to.equal(
      SchemaResolutionReason.Invalid,
    );
    const v3 = executionWith({ name: "region", type: ["null", "string"], default: null });
    const error = rejection(() => registerWriterSchema(v3, { expectedFingerprint: "0123456789abcdef" }));
    expect(error.reason).to.equal(SchemaResolutionReason.FingerprintMismatch);
    expect(writerSchemaOf(fingerprintOf(createAvroType(v3)).toString("hex"))).to.equal(null);
  });
});
