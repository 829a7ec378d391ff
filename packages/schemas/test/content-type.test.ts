import { expect } from "chai";
import { CONTENT_TYPE_HEADER, RECORD_TYPES, contentTypeOf, recordTypeFromContentType } from "../src/index.js";

describe("content type", () => {
  it("names each record type", () => {
    expect(CONTENT_TYPE_HEADER).to.equal("content-type");
    expect(contentTypeOf("execution")).to.equal("application/vnd.tracehouse.execution+avro");
    for (const type of RECORD_TYPES) expect(recordTypeFromContentType(contentTypeOf(type))).to.equal(type);
  });

  it("reads header bytes, any case, with parameters and spaces", () => {
    expect(recordTypeFromContentType(Buffer.from("application/vnd.tracehouse.span+avro"))).to.equal("span");
    expect(
      recordTypeFromContentType(new TextEncoder().encode("application/vnd.tracehouse.error+avro")),
    ).to.equal("error");
    expect(recordTypeFromContentType(" Application/VND.Tracehouse.Metrics+AVRO ; v=1")).to.equal("metrics");
  });

  it("returns null for anything else", () => {
    for (const header of [
      undefined,
      null,
      "",
      "application/json",
      "application/vnd.tracehouse.audit+avro",
      "application/vnd.tracehouse.span+json",
      "application/vnd.tracehouse.span",
      Buffer.from([0xff, 0xfe]),
    ]) {
      expect(recordTypeFromContentType(header), String(header)).to.equal(null);
    }
  });
});
