import { expect } from "chai";
import {
  ConfigError,
  DEFAULT_TOPICS,
  RECORD_TYPES,
  createTopicCatalogue,
  messageKeyOf,
} from "../src/index.js";
import type { RecordType } from "../src/index.js";
import { SAMPLES } from "./helpers/samples.js";

describe("topic catalogue", () => {
  it("names one topic per record family plus the dead-letter and schemas topics", () => {
    const catalogue = createTopicCatalogue();
    expect(catalogue.prefix).to.equal("tracehouse.");
    expect(RECORD_TYPES.map((type) => catalogue.topicFor(type))).to.deep.equal([
      "tracehouse.executions",
      "tracehouse.events",
      "tracehouse.metrics",
      "tracehouse.correlations",
      "tracehouse.errors",
      "tracehouse.spans",
    ]);
    expect(catalogue.dlq).to.equal("tracehouse.dlq");
    expect(catalogue.all.map((spec) => spec.name)).to.deep.equal([
      ...RECORD_TYPES.map((type) => catalogue.topicFor(type)),
      "tracehouse.dlq",
      "tracehouse.schemas",
    ]);
    expect(catalogue.schemas).to.equal("tracehouse.schemas");
    expect(catalogue.all.map((spec) => spec.recordType)).to.deep.equal([...RECORD_TYPES, null, null]);
  });

  it("recommends partitions and retention and spells them as topic config", () => {
    const spans = createTopicCatalogue().all.find((spec) => spec.recordType === "span")!;
    expect(spans.partitions).to.equal(DEFAULT_TOPICS.span.partitions);
    expect(spans.retentionMs).to.equal(7 * 24 * 3600 * 1000);
    expect(spans.cleanupPolicy).to.equal("delete");
    expect(spans.configEntries).to.deep.equal([
      { name: "cleanup.policy", value: "delete" },
      { name: "retention.ms", value: "604800000" },
    ]);
    for (const spec of createTopicCatalogue().all) {
      expect(spec.partitions).to.be.greaterThan(0);
      if (spec.cleanupPolicy === "delete") expect(spec.retentionMs).to.be.greaterThan(0);
    }
  });

  it("keeps writer schemas in a compacted topic, forever", () => {
    const catalogue = createTopicCatalogue({ prefix: "x." });
    const schemas = catalogue.all.find((spec) => spec.name === catalogue.schemas)!;
    expect(schemas.name).to.equal("x.schemas");
    expect(schemas.cleanupPolicy).to.equal("compact");
    expect(schemas.configEntries).to.deep.equal([
      { name: "cleanup.policy", value: "compact" },
      { name: "retention.ms", value: "-1" },
    ]);
    expect(catalogue.recordTypeOfTopic(catalogue.schemas)).to.equal(null);
  });

  it("applies a prefix to every name, including the DLQ", () => {
    const catalogue = createTopicCatalogue({ prefix: "test-4f2a." });
    expect(catalogue.topicFor("execution")).to.equal("test-4f2a.executions");
    expect(catalogue.dlq).to.equal("test-4f2a.dlq");
    expect(catalogue.all.every((spec) => spec.name.startsWith("test-4f2a."))).to.equal(true);
    expect(createTopicCatalogue({ prefix: "" }).topicFor("span")).to.equal("spans");
  });

  it("maps topic names back to record types within its own prefix", () => {
    const catalogue = createTopicCatalogue({ prefix: "staging." });
    for (const type of RECORD_TYPES)
      expect(catalogue.recordTypeOfTopic(catalogue.topicFor(type))).to.equal(type);
    expect(catalogue.recordTypeOfTopic("staging.dlq")).to.equal(null);
    expect(catalogue.recordTypeOfTopic("tracehouse.spans")).to.equal(null);
    expect(catalogue.recordTypeOfTopic("")).to.equal(null);
  });

  it("applies per-family overrides, including infinite retention", () => {
    const catalogue = createTopicCatalogue({
      overrides: { execution: { retentionMs: -1 }, dlq: { partitions: 1 } },
    });
    const executions = catalogue.all.find((spec) => spec.recordType === "execution")!;
    expect(executions.retentionMs).to.equal(-1);
    expect(executions.partitions).to.equal(DEFAULT_TOPICS.execution.partitions);
    expect(executions.configEntries).to.deep.include({ name: "retention.ms", value: "-1" });
    expect(catalogue.all.find((spec) => spec.name === catalogue.dlq)!.partitions).to.equal(1);
  });

  it("rejects options that cannot make valid topics", () => {
    expect(() => createTopicCatalogue({ prefix: "bad prefix/" })).to.throw(ConfigError, /invalid topic name/);
    expect(() => createTopicCatalogue({ prefix: "x".repeat(245) })).to.throw(ConfigError);
    expect(() => createTopicCatalogue({ overrides: { span: { partitions: 0 } } })).to.throw(
      ConfigError,
      /span\.partitions/,
    );
    expect(() => createTopicCatalogue({ overrides: { event: { retentionMs: 1.5 } } })).to.throw(ConfigError);
    expect(() => createTopicCatalogue({ overrides: { spans: {} } as never })).to.throw(
      ConfigError,
      /overrides\.spans/,
    );
    expect(() => createTopicCatalogue({ overrides: { toString: {} } as never })).to.throw(
      ConfigError,
      /toString/,
    );
    expect(() => createTopicCatalogue().topicFor("audit" as RecordType)).to.throw(ConfigError);
  });

  it("keys messages by trace id", () => {
    expect(messageKeyOf(SAMPLES.span)).to.equal("4bf92f3577b34da6a3ce929d0e0e4736");
  });
});
