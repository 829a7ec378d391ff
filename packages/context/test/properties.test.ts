import { expect } from "chai";
import fc from "fast-check";
import {
  contextFromWebSocketEvent,
  InboundTrust,
  formatTraceparent,
  fromKafkaHeaders,
  fromOtelContext,
  parseBaggage,
  parseTraceparent,
  parseTracestate,
  stampWebSocketEvent,
  toKafkaHeaders,
  toOtelContext,
  TraceContext,
  type BaggageEntry,
} from "../src/index.js";

const RUNS = { numRuns: 300 };

const identityValue = fc.option(fc.string({ unit: "grapheme", maxLength: 24 }), { nil: undefined });
const baggageKey = fc
  .stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,16}$/)
  .filter((key) => !key.startsWith("th."));
const baggageMetadata = fc.option(fc.stringMatching(/^[a-z]{1,5}(=[a-z0-9%]{1,5})?(;[a-z]{1,5})?$/), {
  nil: undefined,
});
const baggageEntry = fc.record({
  value: fc.string({ unit: "grapheme", maxLength: 20 }),
  metadata: baggageMetadata,
});
const tracestateMember = fc
  .tuple(
    fc.oneof(
      fc.stringMatching(/^[a-z][a-z0-9_\-*/]{0,10}$/),
      fc.stringMatching(/^[a-z0-9][a-z0-9_\-*/]{0,6}@[a-z][a-z0-9_\-*/]{0,5}$/),
    ),
    fc.stringMatching(/^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,12}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/),
  )
  .map(([key, value]) => ({ key, value }));

const validContext = fc
  .record({
    sampled: fc.boolean(),
    correlationId: identityValue,
    userId: identityValue,
    threadId: identityValue,
    baggage: fc.uniqueArray(fc.tuple(baggageKey, baggageEntry), { selector: ([key]) => key, maxLength: 8 }),
    tracestate: fc.uniqueArray(tracestateMember, { selector: (member) => member.key, maxLength: 8 }),
    depth: fc.nat({ max: 4 }),
  })
  .map((init) => {
    const baggage = new Map<string, BaggageEntry>(
      init.baggage.map(([key, entry]) => [
        key,
        entry.metadata === undefined
          ? { value: entry.value }
          : { value: entry.value, metadata: entry.metadata },
      ]),
    );
    let context = TraceContext.create({
      sampled: init.sampled,
      correlationId: init.correlationId,
      userId: init.userId,
      threadId: init.threadId,
      baggage,
      tracestate: init.tracestate.map(({ key, value }) => `${key}=${value}`),
    });
    for (let i = 0; i < init.depth; i++) context = context.child();
    return context;
  });

/** What crosses a process boundary: everything but the in-process ancestry. */
function propagated(context: TraceContext): Record<string, unknown> {
  const { spanStack: _stack, parentSpanId: _parent, isRemote: _remote, ...rest } = context.toJSON();
  return rest;
}

function expectValid(context: TraceContext): void {
  expect(context).to.be.instanceOf(TraceContext);
  expect(context.traceId).to.match(/^[0-9a-f]{32}$/);
  expect(context.spanId).to.match(/^[0-9a-f]{16}$/);
  expect(context.traceId).to.not.equal("0".repeat(32));
  expect(context.spanId).to.not.equal("0".repeat(16));
  const headers = context.toHeaders();
  expect(parseTraceparent(headers.traceparent)).to.not.equal(null);
  if (headers.tracestate !== undefined) expect(parseTracestate(headers.tracestate)).to.not.equal(null);
  if (headers.baggage !== undefined) expect(parseBaggage(headers.baggage)).to.not.equal(null);
}

describe("properties: round trips of valid contexts", () => {
  it("context → W3C headers → context is the same context", () => {
    fc.assert(
      fc.property(validContext, (context) => {
        const copy = TraceContext.fromHeaders(context.toHeaders());
        expect(copy.isRemote).to.equal(true);
        expect(propagated(copy)).to.deep.equal(propagated(context));
        expect(copy.toHeaders()).to.deep.equal(context.toHeaders());
        expect(copy.child().parentSpanId).to.equal(context.spanId);
      }),
      RUNS,
    );
  });

  it("context → Kafka headers → context is the same context", () => {
    fc.assert(
      fc.property(validContext, (context) => {
        expect(propagated(fromKafkaHeaders(toKafkaHeaders(context)))).to.deep.equal(propagated(context));
      }),
      RUNS,
    );
  });

  it("context → WebSocket JSON → context is the same context", () => {
    fc.assert(
      fc.property(validContext, fc.dictionary(fc.string(), fc.jsonValue()), (context, payload) => {
        const wire = JSON.stringify(stampWebSocketEvent(payload, context));
        expect(propagated(contextFromWebSocketEvent(wire, InboundTrust.internal))).to.deep.equal(
          propagated(context),
        );
      }),
      RUNS,
    );
  });

  it("context → OpenTelemetry context → context is the same context", () => {
    fc.assert(
      fc.property(validContext, (context) => {
        expect(fromOtelContext(toOtelContext(context), context).toJSON()).to.deep.equal(context.toJSON());
      }),
      RUNS,
    );
  });

  it("traceparent formats and parses back", () => {
    const id = (length: number) =>
      fc.stringMatching(new RegExp(`^[0-9a-f]{${length}}$`)).filter((value) => /[1-9a-f]/.test(value));
    fc.assert(
      fc.property(id(32), id(16), fc.integer({ min: 0, max: 3 }), (traceId, spanId, traceFlags) => {
        expect(parseTraceparent(formatTraceparent({ traceId, spanId, traceFlags }))).to.deep.equal({
          traceId,
          spanId,
          traceFlags,
        });
      }),
      RUNS,
    );
  });
});

// The traceparent rules as one regular expression written from the spec, independent of the parser.
const TRACE_ID = "(?!0{32})[0-9a-f]{32}";
const SPAN_ID = "(?!0{16})[0-9a-f]{16}";
const SPEC_TRACEPARENT = new RegExp(
  `^[ \\t]*(?:00-${TRACE_ID}-${SPAN_ID}-[0-9a-f]{2}|(?!00|ff)[0-9a-f]{2}-${TRACE_ID}-${SPAN_ID}-[0-9a-f]{2}(?:-[\\s\\S]*)?)[ \\t]*$`,
);

const headerName = fc.constantFrom(
  "traceparent",
  "TraceParent",
  "tracestate",
  "TRACESTATE",
  "baggage",
  "Baggage",
  "x-other",
);
const garbageValue = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.uint8Array({ maxLength: 80 }).map((bytes) => Buffer.from(bytes)),
  fc.array(
    fc.oneof(
      fc.string(),
      fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
    ),
    { maxLength: 3 },
  ),
  fc.anything(),
);

function mutate(value: string, index: number, replacement: string): string {
  const at = index % (value.length + 1);
  return value.slice(0, at) + replacement + value.slice(at + 1);
}

describe("properties: garbage in", () => {
  it("fromHeaders never throws and always returns a valid context", () => {
    fc.assert(
      fc.property(fc.dictionary(headerName, garbageValue), (headers) => {
        expectValid(TraceContext.fromHeaders(headers as never));
      }),
      { numRuns: 1000 },
    );
  });

  it("near-valid traceparent headers: parser agrees with the spec's grammar, and never throws", () => {
    const base = TraceContext.create().child();
    fc.assert(
      fc.property(
        fc.constantFrom(base.traceparent, `cc-${base.traceId}-${base.spanId}-01-x`, ` ${base.traceparent}\t`),
        fc.array(
          fc.tuple(
            fc.nat(),
            fc.oneof(
              fc.constantFrom("0", "f", "F", "-", " ", "\t", "", "00", "z", "\n"),
              fc.string({ maxLength: 2 }),
            ),
          ),
          {
            maxLength: 3,
          },
        ),
        (header, edits) => {
          const mutated = edits.reduce(
            (value, [index, replacement]) => mutate(value, index, replacement),
            header,
          );
          const parsed = parseTraceparent(mutated);
          expect(parsed !== null, JSON.stringify(mutated)).to.equal(SPEC_TRACEPARENT.test(mutated));
          const context = TraceContext.fromHeaders({ traceparent: mutated, tracestate: "a=1" });
          expectValid(context);
          expect(context.isRemote).to.equal(parsed !== null);
          if (parsed !== null) expect(context.traceId).to.equal(parsed.traceId);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("random tracestate and baggage never throw and format back to valid headers", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.array(fc.string())), (header) => {
        const tracestate = parseTracestate(header);
        if (tracestate !== null) expect(parseTracestate(tracestate.join(","))).to.deep.equal(tracestate);
        const baggage = parseBaggage(header);
        if (baggage !== null) {
          const context = TraceContext.create({ baggage });
          expect(parseBaggage(context.toHeaders().baggage ?? "")).to.deep.equal(
            new Map([...context.toBaggage()]),
          );
        }
      }),
      { numRuns: 1000 },
    );
  });
});
