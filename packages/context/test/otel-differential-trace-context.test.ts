/**
 * Differential test: our W3C traceparent/tracestate parsing and formatting against
 * OpenTelemetry's W3CTraceContextPropagator (@opentelemetry/core 2.x) on the same headers. Where
 * OTel departs from the specification, the case names the clause we follow (W3C Trace Context
 * Level 2, including its tracestate key grammar, and the W3C test suite) and asserts both
 * behaviours, so a change on either side is noticed.
 */
import { expect } from "chai";
import { defaultTextMapSetter, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { TraceContext } from "../src/index.js";
import { caseInsensitiveGetter, type Headers } from "./support/otel-differential.js";

interface Outcome {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
  /** The context's tracestate serialized again ("" for none). */
  readonly tracestate: string;
  /** The traceparent each implementation writes for the extracted context. */
  readonly traceparent: string;
}

interface Case {
  readonly name: string;
  readonly headers: Headers;
  /** What the specification requires, and what we do; null: no valid incoming trace. */
  readonly expected: Outcome | null;
  /** Only where OTel differs: the clause we follow and what OTel does instead. */
  readonly otelDiffers?: { readonly clause: string; readonly otel: Outcome | null };
}

const otelTraceContext = new W3CTraceContextPropagator();

function ours(headers: Headers): Outcome | null {
  const context = TraceContext.fromHeaders(headers);
  if (!context.isRemote) return null;
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    traceFlags: context.traceFlags,
    tracestate: context.toHeaders().tracestate ?? "",
    traceparent: context.traceparent,
  };
}

function otel(headers: Headers): Outcome | null {
  const extracted = otelTraceContext.extract(ROOT_CONTEXT, headers, caseInsensitiveGetter);
  const spanContext = trace.getSpanContext(extracted);
  if (spanContext === undefined) return null;
  const injected: Record<string, string> = {};
  otelTraceContext.inject(extracted, injected, defaultTextMapSetter);
  return {
    traceId: spanContext.traceId,
    spanId: spanContext.spanId,
    traceFlags: spanContext.traceFlags,
    tracestate: spanContext.traceState?.serialize() ?? "",
    traceparent: injected.traceparent ?? "",
  };
}

const T = "12345678901234567890123456789012";
const S = "1234567890123456";
const TP = `00-${T}-${S}-01`;

function valid(traceFlags = 1, tracestate = "", traceId = T, spanId = S): Outcome {
  const flags = traceFlags.toString(16).padStart(2, "0");
  return { traceId, spanId, traceFlags, tracestate, traceparent: `00-${traceId}-${spanId}-${flags}` };
}

const members = (count: number): string[] => Array.from({ length: count }, (_, i) => `bar${i + 1}=${i + 1}`);
const allKeyChars = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
let allValueChars = "";
for (let c = 0x20; c <= 0x7e; c++) if (c !== 0x2c && c !== 0x3d) allValueChars += String.fromCharCode(c);

// 20 members that fit in 512 characters only once a 204-character member is removed
const small = Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, "0")}=${"s".repeat(14)}`);
const big = `big=${"b".repeat(200)}`;
/** OTel's rule: members in order, skipping any that would pass 512 characters. */
function firstThatFit(list: readonly string[]): string {
  const kept: string[] = [];
  let length = 0;
  for (const member of list) {
    const next = length + member.length + (kept.length > 0 ? 1 : 0);
    if (next > 512) continue;
    kept.push(member);
    length = next;
  }
  return kept.join(",");
}

const cases: Case[] = [
  // traceparent: valid
  { name: "sampled", headers: { traceparent: TP }, expected: valid(1) },
  { name: "not sampled", headers: { traceparent: `00-${T}-${S}-00` }, expected: valid(0) },
  { name: "Level 2 random flag", headers: { traceparent: `00-${T}-${S}-03` }, expected: valid(3) },
  {
    name: "future version cc, 55 characters",
    headers: { traceparent: `cc-${T}-${S}-01` },
    expected: valid(1),
  },
  {
    name: "future version cc with extra fields",
    headers: { traceparent: `cc-${T}-${S}-01-what-the-future-will-be-like` },
    expected: valid(1),
  },
  {
    name: "future version with an empty extra field",
    headers: { traceparent: `01-${T}-${S}-00-` },
    expected: valid(0),
  },
  { name: "one leading space", headers: { traceparent: ` ${TP}` }, expected: valid(1) },
  { name: "one trailing tab", headers: { traceparent: `${TP}\t` }, expected: valid(1) },
  {
    name: "header name in mixed case",
    headers: { TrAcEpArEnT: TP, TRACESTATE: "foo=1" },
    expected: valid(1, "foo=1"),
  },
  // traceparent: invalid, both restart
  { name: "version ff", headers: { traceparent: `ff-${T}-${S}-01` }, expected: null },
  {
    name: "version 00 with extra fields",
    headers: { traceparent: `${TP}-what-the-future-will-be-like` },
    expected: null,
  },
  { name: "version 00 with a trailing dot", headers: { traceparent: `${TP}.` }, expected: null },
  {
    name: "future version, dot after flags",
    headers: { traceparent: `cc-${T}-${S}-01.future` },
    expected: null,
  },
  { name: "future version shorter than 55", headers: { traceparent: `cc-${T}-${S}-1` }, expected: null },
  { name: "uppercase version", headers: { traceparent: `0A-${T}-${S}-01` }, expected: null },
  { name: "uppercase trace id", headers: { traceparent: `00-${T.slice(0, 31)}A-${S}-01` }, expected: null },
  { name: "uppercase parent id", headers: { traceparent: `00-${T}-${S.slice(0, 15)}B-01` }, expected: null },
  { name: "uppercase flags", headers: { traceparent: `00-${T}-${S}-0A` }, expected: null },
  { name: "all-zero trace id", headers: { traceparent: `00-${"0".repeat(32)}-${S}-01` }, expected: null },
  { name: "all-zero parent id", headers: { traceparent: `00-${T}-${"0".repeat(16)}-01` }, expected: null },
  { name: "trace id too long", headers: { traceparent: `00-${T}3-${S}-01` }, expected: null },
  { name: "trace id too short", headers: { traceparent: `00-${T.slice(1)}-${S}-01` }, expected: null },
  { name: "parent id too long", headers: { traceparent: `00-${T}-${S}7-01` }, expected: null },
  { name: "parent id too short", headers: { traceparent: `00-${T}-${S.slice(1)}-01` }, expected: null },
  { name: "flags too long", headers: { traceparent: `00-${T}-${S}-001` }, expected: null },
  { name: "flags too short", headers: { traceparent: `00-${T}-${S}-1` }, expected: null },
  { name: "illegal flags character", headers: { traceparent: `00-${T}-${S}-0g` }, expected: null },
  { name: "version too short", headers: { traceparent: `0-${T}-${S}-01` }, expected: null },
  { name: "version too long", headers: { traceparent: `000-${T}-${S}-01` }, expected: null },
  { name: "space inside", headers: { traceparent: `00-${T} -${S}-01` }, expected: null },
  { name: "empty traceparent", headers: { traceparent: "", tracestate: "foo=1" }, expected: null },
  { name: "tracestate without traceparent", headers: { tracestate: "foo=1" }, expected: null },
  {
    name: "invalid traceparent with valid tracestate",
    headers: { traceparent: "00-x", tracestate: "a=1" },
    expected: null,
  },
  // tracestate: agreement
  {
    name: "tracestate, two vendors",
    headers: { traceparent: TP, tracestate: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE" },
    expected: valid(1, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
  },
  {
    name: "tracestate from repeated headers",
    headers: { traceparent: TP, tracestate: ["foo=1,bar=2", "rojo=1,congo=2", "baz=3"] },
    expected: valid(1, "foo=1,bar=2,rojo=1,congo=2,baz=3"),
  },
  {
    name: "tracestate OWS around members",
    headers: { traceparent: TP, tracestate: "foo=1 \t , \t bar=2, \t baz=3" },
    expected: valid(1, "foo=1,bar=2,baz=3"),
  },
  { name: "empty tracestate", headers: { traceparent: TP, tracestate: "" }, expected: valid(1, "") },
  {
    name: "empty tracestate members",
    headers: { traceparent: TP, tracestate: ["a=1,,b=2", ""] },
    expected: valid(1, "a=1,b=2"),
  },
  {
    name: "tracestate, every allowed character",
    headers: { traceparent: TP, tracestate: `${allKeyChars}=${allValueChars}` },
    expected: valid(1, `${allKeyChars}=${allValueChars}`),
  },
  {
    name: "tracestate, multi-tenant key with every allowed character",
    headers: { traceparent: TP, tracestate: `${allKeyChars}@a-z0-9_-*/=1` },
    expected: valid(1, `${allKeyChars}@a-z0-9_-*/=1`),
  },
  {
    name: "tracestate, 32 members",
    headers: { traceparent: TP, tracestate: members(32).join(",") },
    expected: valid(1, members(32).join(",")),
  },
  {
    name: "tracestate, 256-character key",
    headers: { traceparent: TP, tracestate: ["foo=1", `${"z".repeat(256)}=1`] },
    expected: valid(1, `foo=1,${"z".repeat(256)}=1`),
  },
  {
    name: "tracestate, 241@14 multi-tenant key",
    headers: { traceparent: TP, tracestate: `${"t".repeat(241)}@${"v".repeat(14)}=1` },
    expected: valid(1, `${"t".repeat(241)}@${"v".repeat(14)}=1`),
  },
  {
    name: "tracestate value with leading spaces",
    headers: { traceparent: TP, tracestate: "foo=  1" },
    expected: valid(1, "foo=  1"),
  },
  {
    name: "tracestate, = inside the only value",
    headers: { traceparent: TP, tracestate: "foo=bar=baz" },
    expected: valid(1, ""),
  },
  // divergences
  {
    name: "OWS of several characters around traceparent",
    headers: { traceparent: `\t ${TP} \t` },
    expected: valid(1),
    otelDiffers: {
      clause:
        "RFC 7230 §3.2.4 (OWS = *(SP / HTAB)) and W3C test suite test_traceparent_ows_handling ('\\t 00-… \\t' is propagated); OTel's regex allows one \\s each side",
      otel: null,
    },
  },
  {
    name: "newline before traceparent",
    headers: { traceparent: `\n${TP}` },
    expected: null,
    otelDiffers: {
      clause:
        'Trace Context §3.2.2: the value is version "-" version-format and OWS is only space/tab; OTel\'s \\s also accepts CR, LF and Unicode spaces',
      otel: valid(1),
    },
  },
  {
    name: "two traceparent headers",
    headers: { traceparent: [TP, `00-${T.slice(0, 31)}1-${S}-01`] },
    expected: null,
    otelDiffers: {
      clause:
        "W3C test suite test_traceparent_duplicated: two traceparent headers restart the trace; OTel takes the first",
      otel: valid(1),
    },
  },
  {
    name: "undefined flag bits",
    headers: { traceparent: `00-${T}-${S}-ff` },
    expected: valid(3),
    otelDiffers: {
      clause:
        "Trace Context §3.2.2.5.2 Other Flags: 'Vendors MUST set those to zero' (Level 2 defines 0x02 random); OTel keeps all bits and even writes a 3-digit flags field '0ff'",
      otel: { ...valid(0xff), traceparent: `00-${T}-${S}-0ff` },
    },
  },
  {
    name: "future version flags",
    headers: { traceparent: `cc-${T}-${S}-03-future` },
    expected: valid(1),
    otelDiffers: {
      clause:
        "Trace Context §3.2.4 Versioning: of a higher version only 'the sampled bit of flags' is parsed, unknown fields are not assumed",
      otel: valid(3),
    },
  },
  {
    name: "tracestate with duplicated keys",
    headers: { traceparent: TP, tracestate: "foo=1,bar=2,foo=3" },
    expected: valid(1, "foo=1,bar=2"),
    otelDiffers: {
      clause:
        "Trace Context Level 2 §3.3.1.4 'Only one entry per key is allowed because the entry represents that last position in the trace' and §3.5 'Modified keys MUST be moved to the beginning (left)': the first is the latest and is kept; §3.5 'Vendors SHOULD NOT delete keys that were not generated by them', so the rest stays. OTel keeps the first position with the last value",
      otel: valid(1, "foo=3,bar=2"),
    },
  },
  {
    name: "tracestate with the same member repeated across headers",
    headers: { traceparent: TP, tracestate: ["foo=1", "foo=1"] },
    expected: valid(1, "foo=1"),
  },
  {
    name: "tracestate with an uppercase key",
    headers: { traceparent: TP, tracestate: "FOO=1,bar=2" },
    expected: valid(1, ""),
    otelDiffers: {
      clause:
        "W3C test suite test_tracestate_key_illegal_characters: an invalid key discards the tracestate; OTel drops only that member",
      otel: valid(1, "bar=2"),
    },
  },
  ...[
    ["an @ at the end", "foo@"],
    ["two @ in a row", "foo@@bar"],
    ["a 15-character part after @", `t@${"v".repeat(15)}`],
    ["a 242-character part before @", `${"t".repeat(242)}@v`],
    ["a digit first and no @", "1foo"],
  ].map(([shape, key]): Case => ({
    name: `tracestate with a Level 2 key with ${shape}`,
    headers: { traceparent: TP, tracestate: `rojo=1,${key}=2,congo=3` },
    expected: valid(1, `rojo=1,${key}=2,congo=3`),
    otelDiffers: {
      clause:
        'Trace Context Level 2 §3.3.1.3.1 key = ( lcalpha / DIGIT ) 0*255 ( keychar ), keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"; OTel checks Level 1\'s tenant-id "@" system-id and drops the member',
      otel: valid(1, "rojo=1,congo=3"),
    },
  })),
  {
    name: "tracestate with an empty value",
    headers: { traceparent: TP, tracestate: "foo=,bar=3" },
    expected: valid(1, ""),
    otelDiffers: {
      clause:
        "Trace Context §3.3.1.3.2 value = 0*255(chr) nblk-chr (at least one character); W3C test suite test_tracestate_value_illegal_characters",
      otel: valid(1, "bar=3"),
    },
  },
  {
    name: "tracestate with 33 members",
    headers: { traceparent: TP, tracestate: members(33).join(",") },
    expected: valid(1, ""),
    otelDiffers: {
      clause:
        "Trace Context §3.3.1.1 'a maximum of 32 list-members'; W3C test suite test_tracestate_member_count_limit discards 33",
      otel: valid(1, members(32).join(",")),
    },
  },
  {
    name: "tracestate with a 257-character key",
    headers: { traceparent: TP, tracestate: ["foo=1", `${"z".repeat(257)}=1`] },
    expected: valid(1, ""),
    otelDiffers: {
      clause:
        "Trace Context §3.3.1.3.1 simple-key = lcalpha 0*255(...); W3C test suite test_tracestate_key_length_limit",
      otel: valid(1, "foo=1"),
    },
  },
  {
    name: "tracestate member ending in a newline",
    headers: { traceparent: TP, tracestate: "foo=1\n,bar=2" },
    expected: valid(1, ""),
    otelDiffers: {
      clause:
        "Trace Context §3.3.1.3.2: values are printable ASCII 0x20-0x7E, OWS is space/tab only; OTel trims any white space",
      otel: valid(1, "foo=1,bar=2"),
    },
  },
  {
    name: "tracestate over 512 characters with a large member",
    headers: { traceparent: TP, tracestate: [...small.slice(0, 10), big, ...small.slice(10)].join(",") },
    expected: valid(1, small.join(",")),
    otelDiffers: {
      clause:
        "Trace Context §3.3.1.5 Limits: 'Entries larger than 128 characters long SHOULD be removed first. Then entries SHOULD be removed starting from the end'; OTel keeps members in order while they fit",
      otel: valid(1, firstThatFit([...small.slice(0, 10), big, ...small.slice(10)])),
    },
  },
];

describe("differential: traceparent/tracestate against OpenTelemetry's W3CTraceContextPropagator", () => {
  it("has a corpus of at least 40 cases, valid and invalid", () => {
    expect(cases.length).to.be.at.least(40);
    expect(cases.filter((c) => c.expected === null).length).to.be.at.least(15);
    expect(cases.filter((c) => c.otelDiffers !== undefined).length).to.be.at.least(10);
  });

  for (const testCase of cases) {
    const title = testCase.otelDiffers
      ? `${testCase.name} (differs: ${testCase.otelDiffers.clause})`
      : testCase.name;
    it(title, () => {
      const ourOutcome = ours(testCase.headers);
      const otelOutcome = otel(testCase.headers);
      expect(ourOutcome, "ours").to.deep.equal(testCase.expected);
      if (testCase.otelDiffers === undefined) {
        expect(otelOutcome, "OpenTelemetry").to.deep.equal(testCase.expected);
      } else {
        expect(otelOutcome, "OpenTelemetry").to.deep.equal(testCase.otelDiffers.otel);
        expect(otelOutcome).to.not.deep.equal(ourOutcome);
      }
    });
  }
});
