import { ConfigError } from "@tracehouse/schemas";
import { expect } from "chai";
import { resolveReceiverConfig } from "../src/config.js";
import { executionIdOf } from "../src/index.js";
import { RecordSlot, spanEventId } from "../src/internal/ids.js";
import { mapSpans } from "../src/internal/map-spans.js";
import type { MappedRecord } from "../src/internal/map-spans.js";
import type { OtlpSpan, OtlpSpanGroup } from "../src/internal/model.js";
import { SpanDirectory } from "../src/internal/SpanDirectory.js";

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const T0 = 1_760_000_000_000_000;

function span(
  spanId: string,
  parent: string | null,
  name: string,
  attributes: Record<string, string> = {},
): OtlpSpan {
  return {
    traceId: TRACE,
    spanId,
    parentSpanId: parent,
    name,
    kind: 1,
    startUs: T0,
    endUs: T0 + 1000,
    attributes,
    events: [],
    links: [],
    statusCode: 0,
    statusMessage: null,
  };
}

const group = (...spans: OtlpSpan[]): OtlpSpanGroup[] => [
  { resource: { "service.name": "svc" }, scope: { name: "s", version: "", attributes: {} }, spans },
];
const flat = (records: MappedRecord[][]): MappedRecord[] => records.flat();
const fieldsOf = (records: MappedRecord[], type: string): Record<string, unknown>[] =>
  records.filter((r) => r.type === type).map((r) => r.fields as unknown as Record<string, unknown>);

const agent = (id: string, parent: string | null, name: string): OtlpSpan =>
  span(id, parent, `invoke_agent ${name}`, {
    "gen_ai.operation.name": "invoke_agent",
    "gen_ai.agent.name": name,
  });
const chat = (id: string, parent: string): OtlpSpan =>
  span(id, parent, "chat m", {
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "m",
    "gen_ai.usage.input_tokens": "5",
  });

describe("mapping spans that arrive over many requests, children first", function () {
  it("resolves a call's execution through a non-GenAI span that arrived before it", function () {
    const directory = new SpanDirectory(1000);
    mapSpans(group(span("2222222222222222", "1111111111111111", "retrieve")), directory);
    const records = flat(mapSpans(group(chat("3333333333333333", "2222222222222222")), directory));
    mapSpans(group(agent("1111111111111111", null, "planner")), directory);
    const events = fieldsOf(records, "event");
    expect(events).to.have.length(2);
    for (const event of events)
      expect(event["execution_id"]).to.equal(executionIdOf(TRACE, "1111111111111111"));
  });

  it("emits a sub-agent's correlation with the request that brings its parent, once", function () {
    const directory = new SpanDirectory(1000);
    const first = flat(
      mapSpans(group(agent("bbbbbbbbbbbbbbbb", "aaaaaaaaaaaaaaaa", "researcher")), directory),
    );
    expect(fieldsOf(first, "correlation")).to.have.length(0);
    const starts = fieldsOf(first, "execution");
    expect(starts[0]?.["parent_execution_id"]).to.equal(executionIdOf(TRACE, "aaaaaaaaaaaaaaaa"));
    const second = flat(mapSpans(group(agent("aaaaaaaaaaaaaaaa", null, "planner")), directory));
    const correlations = fieldsOf(second, "correlation");
    expect(correlations).to.have.length(1);
    expect(correlations[0]).to.include({
      parent_execution_id: executionIdOf(TRACE, "aaaaaaaaaaaaaaaa"),
      child_execution_id: executionIdOf(TRACE, "bbbbbbbbbbbbbbbb"),
      agent_name: "planner",
      child_agent_name: "researcher",
      relationship: "SUBAGENT",
    });
    const again = flat(mapSpans(group(agent("aaaaaaaaaaaaaaaa", null, "planner")), directory));
    expect(fieldsOf(again, "correlation")).to.have.length(0);
  });

  it("does not correlate a root agent with the unseen server span above it", function () {
    const directory = new SpanDirectory(1000);
    const records = flat(
      mapSpans(group(agent("cccccccccccccccc", "dddddddddddddddd", "planner")), directory),
    );
    const server = flat(mapSpans(group(span("dddddddddddddddd", null, "POST /ask")), directory));
    expect(fieldsOf(records, "correlation")).to.have.length(0);
    expect(fieldsOf(server, "correlation")).to.have.length(0);
    expect(server.map((r) => r.type)).to.deep.equal(["span"]);
  });

  it("links a call under a non-GenAI span that arrived after it to the agent above, whichever arrives last", function () {
    for (const order of [
      ["chat", "retrieve", "planner"],
      ["chat", "planner", "retrieve"],
    ]) {
      const directory = new SpanDirectory(1000);
      const spans: Record<string, OtlpSpan> = {
        chat: chat("3333333333333333", "2222222222222222"),
        retrieve: span("2222222222222222", "1111111111111111", "retrieve"),
        planner: agent("1111111111111111", null, "planner"),
      };
      const records = order.flatMap((name) => flat(mapSpans(group(spans[name] as OtlpSpan), directory)));
      const events = fieldsOf(records, "event");
      expect(events[0]?.["execution_id"]).to.equal(executionIdOf(TRACE, "2222222222222222"));
      const correlations = fieldsOf(records, "correlation");
      expect(correlations, order.join(",")).to.have.length(1);
      expect(correlations[0]).to.include({
        parent_execution_id: executionIdOf(TRACE, "1111111111111111"),
        child_execution_id: executionIdOf(TRACE, "2222222222222222"),
        child_agent_name: "retrieve",
        relationship: "FOLLOWS_FROM",
      });
    }
  });

  it("writes no link for a root agent whose server span's own parent never arrives", function () {
    const directory = new SpanDirectory(1000);
    const records = [
      ...flat(mapSpans(group(agent("cccccccccccccccc", "dddddddddddddddd", "planner")), directory)),
      ...flat(mapSpans(group(span("dddddddddddddddd", "eeeeeeeeeeeeeeee", "POST /ask")), directory)),
    ];
    expect(fieldsOf(records, "correlation")).to.have.length(0);
  });

  it("maps the same span to the same event ids every time (retries deduplicate)", function () {
    const a = flat(mapSpans(group(chat("3333333333333333", "1111111111111111")), new SpanDirectory(10)));
    const b = flat(mapSpans(group(chat("3333333333333333", "1111111111111111")), new SpanDirectory(10)));
    expect(a.map((r) => r.fields.event_id)).to.deep.equal(b.map((r) => r.fields.event_id));
    expect(new Set(a.map((r) => r.fields.event_id)).size).to.equal(a.length);
  });

  it("keeps the event ids that earlier versions gave (a retry across an upgrade still deduplicates)", function () {
    const spanId = "b7ad6b7169203331";
    expect(spanEventId(TRACE, spanId, RecordSlot.Span, 1_760_000_000_123_456)).to.equal(
      "0199c82c-c07b-7000-b3e5-805075a002ad",
    );
    expect(spanEventId(TRACE, spanId, RecordSlot.CallEnd, 1_760_000_000_999_999)).to.equal(
      "0199c82c-c3e7-7007-b3e5-805075a002ad",
    );
    expect(spanEventId(TRACE, spanId, RecordSlot.ExceptionBase + 3, 0)).to.equal(
      "00000000-0000-7013-b3e5-805075a002ad",
    );
    // times and slots beyond their fields are clamped
    expect(spanEventId(TRACE, spanId, 5000, 2 ** 60)).to.equal("ffffffff-ffff-7fff-b3e5-805075a002ad");
    expect(spanEventId("f".repeat(32), "f".repeat(16), 4095, 281_474_976_710_655_000)).to.equal(
      "ffffffff-ffff-7fff-8000-000000000000",
    );
  });

  it("keeps the directory within its bound", function () {
    const directory = new SpanDirectory(100);
    for (let i = 1; i <= 1000; i++)
      mapSpans(group(span(i.toString(16).padStart(16, "0"), null, "x")), directory);
    expect(directory.size).to.be.at.most(100);
  });
});

describe("resolveReceiverConfig", function () {
  it("declares defaults once and rejects bad or contradictory options with ConfigError", function () {
    const config = resolveReceiverConfig({ brokers: ["127.0.0.1:9092"] });
    expect(config).to.include({ host: "127.0.0.1", httpPort: 4318, grpcPort: 4317, retryAfterSeconds: 5 });
    for (const options of [
      {},
      { brokers: ["b:1"], httpPort: 70_000 },
      { brokers: ["b:1"], httpPort: null, grpcPort: null },
      { brokers: ["b:1"], httpPort: 5000, grpcPort: 5000 },
      { brokers: ["b:1"], maxRequestBytes: 10 },
      { brokers: ["b:1"], host: "" },
      { brokers: ["b:1"], ackTimeoutMs: 1.5 },
      { brokers: ["b:1"], producers: 0 },
    ]) {
      expect(() => resolveReceiverConfig(options), JSON.stringify(options)).to.throw(ConfigError);
    }
  });
});
