// The encoder's fast paths (short ASCII strings written without a byte-length call, records
// written into a shared slab, id checks skipped for ids known to be well formed) must write
// exactly what plain avsc writes, and never let one record's bytes change another's.
import avro from "avsc";
import { expect } from "chai";
import { avroSchemaOf, decodeRecord, encodeRecord, ValidationError } from "../src/index.js";
import type { RecordInputOf } from "../src/index.js";
import { SAMPLES } from "./helpers/samples.js";

type EventInput = RecordInputOf<"event">;

/** The same schema through avsc's own types, none of tracehouse's: the reference bytes. */
const plain = avro.Type.forSchema(avroSchemaOf("event") as avro.schema.AvroSchema, { wrapUnions: "never" });

function body(bytes: Buffer): Buffer {
  return bytes.subarray(10);
}

function decoded(bytes: Buffer): EventInput {
  return decodeRecord(bytes).record as unknown as EventInput;
}

function event(overrides: Partial<EventInput>): EventInput {
  return { ...SAMPLES.event, ...overrides } as EventInput;
}

describe("encodeRecord's fast paths", () => {
  const strings = [
    "",
    "a",
    "x".repeat(63),
    "x".repeat(64),
    "x".repeat(65),
    "x".repeat(300),
    "é",
    "caf\u00e9 au lait",
    "\u{1F600} grin",
    "ascii then \u4e2d\u6587",
    "\u0000\u007f control",
    `${"y".repeat(62)}\u00ff`,
  ];

  it("writes strings of every length and script exactly as avsc does", () => {
    for (const text of strings) {
      const record = event({
        name: text,
        agent_name: text,
        user_id: text,
        thread_id: null,
        metadata: { [text]: text, plain: "v" },
        attributes: { [`k${text}`]: text },
      });
      const encoded = encodeRecord("event", record);
      expect(body(encoded).equals(plain.toBuffer(record)), JSON.stringify(text)).to.equal(true);
      const back = decoded(encoded);
      expect(back.name).to.equal(text);
      expect(back.metadata).to.deep.equal({ [text]: text, plain: "v" });
    }
  });

  it("writes optional strings, null or not, as avsc does, and refuses anything else by its field", () => {
    for (const value of [null, "", "x", "é"]) {
      const record = event({ agent_name: value, correlation_id: value, parent_span_id: null });
      expect(body(encodeRecord("event", record)).equals(plain.toBuffer(record)), String(value)).to.equal(
        true,
      );
    }
    expect(() => encodeRecord("event", event({ agent_name: 5 as unknown as string }))).to.throw(
      ValidationError,
      /agent_name/,
    );
  });

  it("gives every record bytes of its own, across slabs and for records larger than a slab", () => {
    const small = Array.from({ length: 2000 }, (_, i) => event({ name: `tool-${i}` }));
    const encoded = small.map((record) => encodeRecord("event", record));
    const large = encodeRecord("event", event({ name: "z".repeat(600_000) }));
    const after = encodeRecord("event", event({ name: "after" }));
    encoded.forEach((bytes, i) => {
      expect(decoded(bytes).name).to.equal(`tool-${i}`);
    });
    expect(decoded(large).name).to.have.length(600_000);
    expect(decoded(after).name).to.equal("after");
  });

  it("leaves nothing behind when a record is refused halfway", () => {
    const before = encodeRecord("event", event({ name: "before" }));
    const copy = Buffer.from(before);
    expect(() => encodeRecord("event", event({ name: "n", payload_bytes: 0.5 }))).to.throw(ValidationError);
    const next = encodeRecord("event", event({ name: "next" }));
    expect(before.equals(copy)).to.equal(true);
    expect(decoded(next).name).to.equal("next");
  });

  it("checks the ids unless told they were made well formed", () => {
    const bad = event({ trace_id: "NOT-A-TRACE-ID" });
    expect(() => encodeRecord("event", bad)).to.throw(ValidationError, /trace_id/);
    expect(() => encodeRecord("event", bad, { idsChecked: false })).to.throw(ValidationError, /trace_id/);
    const trusted = encodeRecord("event", bad, { idsChecked: true });
    expect(decoded(trusted).trace_id).to.equal("NOT-A-TRACE-ID");
  });
});
