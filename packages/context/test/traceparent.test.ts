import { expect } from "chai";
import { formatTraceparent, parseTraceparent, TraceFlag } from "../src/index.js";

const TRACE_ID = "12345678901234567890123456789012";
const SPAN_ID = "1234567890123456";
const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;

describe("parseTraceparent", () => {
  it("parses a version 00 header", () => {
    expect(parseTraceparent(VALID)).to.deep.equal({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 });
    expect(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-00`)?.traceFlags).to.equal(0);
  });

  it("keeps the Level 2 random flag and drops undefined flag bits", () => {
    expect(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-03`)?.traceFlags).to.equal(
      TraceFlag.Sampled | TraceFlag.Random,
    );
    expect(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-09`)?.traceFlags).to.equal(TraceFlag.Sampled);
    expect(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-fc`)?.traceFlags).to.equal(0);
  });

  it("ignores space and tab around the value, nothing else", () => {
    for (const padded of [` ${VALID}`, `\t${VALID}`, `${VALID} `, `${VALID}\t`, `\t ${VALID} \t`]) {
      expect(parseTraceparent(padded)?.traceId, JSON.stringify(padded)).to.equal(TRACE_ID);
    }
    for (const padded of [
      `\n${VALID}`,
      `${VALID}\r\n`,
      `\u00a0${VALID}`,
      `${VALID.slice(0, 20)} ${VALID.slice(20)}`,
    ]) {
      expect(parseTraceparent(padded), JSON.stringify(padded)).to.equal(null);
    }
  });

  it("parses higher versions by their first four fields", () => {
    expect(parseTraceparent(`cc-${TRACE_ID}-${SPAN_ID}-01`)?.traceId).to.equal(TRACE_ID);
    expect(parseTraceparent(`cc-${TRACE_ID}-${SPAN_ID}-01-what-the-future-will-be-like`)).to.deep.equal({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: 1,
    });
    expect(parseTraceparent(`01-${TRACE_ID}-${SPAN_ID}-01-`)?.spanId).to.equal(SPAN_ID);
    // only the sampled bit of a future version's flags is known
    expect(parseTraceparent(`cc-${TRACE_ID}-${SPAN_ID}-03`)?.traceFlags).to.equal(TraceFlag.Sampled);
    expect(parseTraceparent(`cc-${TRACE_ID}-${SPAN_ID}-01.what-the-future-will-be-like`)).to.equal(null);
    expect(parseTraceparent(`cc-${TRACE_ID}-${SPAN_ID}-0`)).to.equal(null);
  });

  const invalid: Record<string, string> = {
    "version 00 with trailing data": `${VALID}-what-the-future-will-be-like`,
    "version 00 with a trailing dot": `${VALID}.`,
    "version 00 with a trailing dash": `${VALID}-`,
    "version ff": `ff-${TRACE_ID}-${SPAN_ID}-01`,
    "uppercase version": `0A-${TRACE_ID}-${SPAN_ID}-01`,
    "illegal version character": `.0-${TRACE_ID}-${SPAN_ID}-01`,
    "version too long": `000-${TRACE_ID}-${SPAN_ID}-01`,
    "version too short": `0-${TRACE_ID}-${SPAN_ID}-01`,
    "all-zero trace id": `00-${"0".repeat(32)}-${SPAN_ID}-01`,
    "all-zero parent id": `00-${TRACE_ID}-${"0".repeat(16)}-01`,
    "uppercase trace id": `00-${TRACE_ID.slice(0, 31)}A-${SPAN_ID}-01`,
    "uppercase parent id": `00-${TRACE_ID}-${SPAN_ID.slice(0, 15)}F-01`,
    "uppercase flags": `00-${TRACE_ID}-${SPAN_ID}-0A`,
    "trace id too long": `00-${TRACE_ID}3-${SPAN_ID}-01`,
    "trace id too short": `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`,
    "parent id too long": `00-${TRACE_ID}-${SPAN_ID}7-01`,
    "parent id too short": `00-${TRACE_ID}-${SPAN_ID.slice(1)}-01`,
    "flags too long": `00-${TRACE_ID}-${SPAN_ID}-001`,
    "flags too short": `00-${TRACE_ID}-${SPAN_ID}-1`,
    "illegal flags character": `00-${TRACE_ID}-${SPAN_ID}-0.`,
    "illegal trace id character": `00-.${TRACE_ID.slice(1)}-${SPAN_ID}-01`,
    "wrong delimiter": `00_${TRACE_ID}_${SPAN_ID}_01`,
    "higher version shorter than 55": `cc-${TRACE_ID}-${SPAN_ID}-1`,
    empty: "",
  };
  for (const [name, header] of Object.entries(invalid)) {
    it(`rejects ${name}`, () => {
      expect(parseTraceparent(header)).to.equal(null);
    });
  }

  it("returns null for non-strings", () => {
    for (const value of [undefined, null, 42, {}, [VALID], Buffer.from(VALID)]) {
      expect(parseTraceparent(value)).to.equal(null);
    }
  });
});

describe("formatTraceparent", () => {
  it("writes version 00 with two-digit flags", () => {
    expect(formatTraceparent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0 })).to.equal(
      `00-${TRACE_ID}-${SPAN_ID}-00`,
    );
    expect(formatTraceparent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 3 })).to.equal(
      `00-${TRACE_ID}-${SPAN_ID}-03`,
    );
  });

  it("writes unknown flag bits as zero", () => {
    expect(formatTraceparent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0xff })).to.equal(
      `00-${TRACE_ID}-${SPAN_ID}-03`,
    );
  });

  it("downgrades a future version to 00", () => {
    const parsed = parseTraceparent(`cc-${TRACE_ID}-${SPAN_ID}-01-extra`);
    expect(parsed && formatTraceparent(parsed)).to.equal(VALID);
  });
});
