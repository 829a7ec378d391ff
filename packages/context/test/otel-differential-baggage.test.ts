/**
 * Differential test: our W3C Baggage parsing against OpenTelemetry's W3CBaggagePropagator
 * (@opentelemetry/core 2.x) on the same headers. Where OTel departs from the specification, the
 * case names the clause of W3C Baggage we follow and asserts both behaviours, so a change on
 * either side is noticed.
 */
import { expect } from "chai";
import { propagation, ROOT_CONTEXT } from "@opentelemetry/api";
import { W3CBaggagePropagator } from "@opentelemetry/core";
import { TraceContext, type BaggageEntry } from "../src/index.js";
import { caseInsensitiveGetter } from "./support/otel-differential.js";

const otelBaggage = new W3CBaggagePropagator();

interface BaggageCase {
  readonly name: string;
  readonly header: string;
  readonly expected: [string, BaggageEntry][];
  readonly otelDiffers?: { readonly clause: string; readonly otel: [string, BaggageEntry][] };
}

function ourBaggage(header: string): [string, BaggageEntry][] {
  return [...TraceContext.fromHeaders({ baggage: header }).toBaggage()];
}

function otelBaggageEntries(header: string): [string, BaggageEntry][] {
  const extracted = otelBaggage.extract(ROOT_CONTEXT, { baggage: header }, caseInsensitiveGetter);
  return (propagation.getBaggage(extracted)?.getAllEntries() ?? []).map(([key, entry]) => {
    const metadata = entry.metadata?.toString();
    return [key, metadata === undefined ? { value: entry.value } : { value: entry.value, metadata }];
  });
}

const baggageCases: BaggageCase[] = [
  {
    name: "the specification's example of values with spaces",
    header: "userId=alice,serverNode=DF%2028,isProduction=false",
    expected: [
      ["userId", { value: "alice" }],
      ["serverNode", { value: "DF 28" }],
      ["isProduction", { value: "false" }],
    ],
  },
  {
    name: "OWS around keys and values",
    header: "userId =   alice , serverNode = DF%2028",
    expected: [
      ["userId", { value: "alice" }],
      ["serverNode", { value: "DF 28" }],
    ],
  },
  { name: "UTF-8 percent-encoding", header: "euro=%E2%82%AC", expected: [["euro", { value: "€" }]] },
  {
    name: "properties",
    header: "key1=value1;property1;property2",
    expected: [["key1", { value: "value1", metadata: "property1;property2" }]],
  },
  {
    name: "properties with OWS",
    header: "key3=value3; propertyKey = propertyValue",
    expected: [["key3", { value: "value3", metadata: "propertyKey=propertyValue" }]],
    otelDiffers: {
      clause:
        "W3C Baggage §3.2.1.4 property: 'Leading and trailing OWS is allowed but MUST be trimmed when converting the header into a data structure'; OTel keeps the raw text",
      otel: [["key3", { value: "value3", metadata: " propertyKey = propertyValue" }]],
    },
  },
  {
    name: "empty value",
    header: "a=,b=2",
    expected: [
      ["a", { value: "" }],
      ["b", { value: "2" }],
    ],
    otelDiffers: {
      clause: "W3C Baggage §3.2.1 value = *baggage-octet (zero or more); OTel drops empty values",
      otel: [["b", { value: "2" }]],
    },
  },
  {
    name: "key that is not a token",
    header: "bad key=1,good=2",
    expected: [["good", { value: "2" }]],
    otelDiffers: {
      clause: "W3C Baggage §3.2.1 key = token (RFC 7230 §3.2.6); OTel accepts any key",
      otel: [
        ["bad key", { value: "1" }],
        ["good", { value: "2" }],
      ],
    },
  },
];

describe("differential: baggage against OpenTelemetry's W3CBaggagePropagator", () => {
  for (const testCase of baggageCases) {
    const title = testCase.otelDiffers
      ? `${testCase.name} (differs: ${testCase.otelDiffers.clause})`
      : testCase.name;
    it(title, () => {
      expect(ourBaggage(testCase.header), "ours").to.deep.equal(testCase.expected);
      expect(otelBaggageEntries(testCase.header), "OpenTelemetry").to.deep.equal(
        testCase.otelDiffers?.otel ?? testCase.expected,
      );
    });
  }
});
