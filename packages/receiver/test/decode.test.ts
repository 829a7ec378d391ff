import { expect } from "chai";
import { encodeExportRequest } from "../src/index.js";
import { decodeExport } from "../src/internal/handle-export.js";
import type { OtlpSpan } from "../src/internal/model.js";

const TRACE_A = "0af7651916cd43dd8448eb211c80319c";
const TRACE_B = "4bf92f3577b34da6a3ce929d0e0e4736";
const NOW_NS = BigInt(Date.now()) * 1_000_000n;

function span(traceId: string, spanId: string, attributes: unknown[] = []): Record<string, unknown> {
  return {
    traceId: Buffer.from(traceId, "hex"),
    spanId: Buffer.from(spanId, "hex"),
    name: "work",
    startTimeUnixNano: NOW_NS.toString(),
    endTimeUnixNano: (NOW_NS + 1_000_000n).toString(),
    attributes,
  };
}

function decoded(spans: Record<string, unknown>[]): OtlpSpan[] {
  const body = encodeExportRequest({ resourceSpans: [{ scopeSpans: [{ spans }] }] });
  return decodeExport(body, "protobuf", 1000).groups.flatMap((group) => group.spans);
}

describe("decoding OTLP protobuf", function () {
  it("gives each span its own trace id when the spans of several traces interleave", function () {
    const spans = decoded([
      span(TRACE_A, "00000000000000a1"),
      span(TRACE_A, "00000000000000a2"),
      span(TRACE_B, "00000000000000b1"),
      span(TRACE_A, "00000000000000a3"),
      span(TRACE_B, "00000000000000b2"),
    ]);
    expect(spans.map((s) => `${s.traceId}/${s.spanId}`)).to.deep.equal([
      `${TRACE_A}/00000000000000a1`,
      `${TRACE_A}/00000000000000a2`,
      `${TRACE_B}/00000000000000b1`,
      `${TRACE_A}/00000000000000a3`,
      `${TRACE_B}/00000000000000b2`,
    ]);
  });

  it("renders 64-bit integer attributes exactly, beyond the safe integers too", function () {
    const int = (key: string, value: number | string): unknown => ({ key, value: { intValue: value } });
    const [only] = decoded([
      span(TRACE_A, "00000000000000a1", [
        int("status", 200),
        int("negative", -3),
        int("large", 2 ** 40 + 1),
        int("unsafe", "9007199254740993"),
        int("min", "-9223372036854775808"),
        int("max", "9223372036854775807"),
      ]),
    ]);
    expect(only?.attributes).to.deep.equal({
      status: "200",
      negative: "-3",
      large: String(2 ** 40 + 1),
      unsafe: "9007199254740993",
      min: "-9223372036854775808",
      max: "9223372036854775807",
    });
  });
});
