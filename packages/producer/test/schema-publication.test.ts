import { expect } from "chai";
import { TraceContext } from "@tracehouse/context";
import { avroSchemaOf, schemaFingerprintOf, writerSchemaOf } from "@tracehouse/schemas";
import type { Logger } from "@tracehouse/schemas";
import { readTopicFor } from "@tracehouse/testkit";
import { createProducer } from "../src/index.js";
import { topicFixture } from "./helpers/kafka.js";

function capturingLogger(): Logger & { readonly warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    debug: () => undefined,
    info: () => undefined,
    warn: (message: string) => void warnings.push(message),
    error: () => undefined,
  };
}

describe("writer schema publication", function () {
  this.timeout(120_000);

  it("publishes each writer schema once, keyed by fingerprint, before the first record written with it", async () => {
    const fixture = await topicFixture(1);
    try {
      const producer = createProducer({ brokers: fixture.brokers, topics: fixture.topics, spool: false });
      const context = TraceContext.create();
      producer.emitExecution({ lifecycle: "STARTED", status: "running", execution_id: "e1" }, context);
      producer.emitEvent({ event_kind: "CUSTOM", name: "step" }, context);
      await producer.flush();
      for (let i = 0; i < 3; i++) {
        producer.emitEvent({ event_kind: "CUSTOM", name: `again ${i}` }, context);
        await producer.flush();
      }
      await producer.close();

      const schemas = await readTopicFor(fixture.kafka, fixture.topics.schemas);
      const byKey = new Map(schemas.map((message) => [message.key!.toString(), message]));
      expect(schemas, "one message per writer schema, however many batches").to.have.length(2);
      for (const type of ["execution", "event"] as const) {
        const message = byKey.get(schemaFingerprintOf(type));
        expect(message, `${type} schema`).to.not.equal(undefined);
        expect(JSON.parse(message!.value!.toString())).to.deep.equal(avroSchemaOf(type));
        expect(message!.headers!["tracehouse-record-type"]!.toString()).to.equal(type);
        expect(writerSchemaOf(message!.key!.toString())!.recordType).to.equal(type);
      }
      expect(await fixture.consume(5)).to.have.length(5);
      const firstSchemaAt = Math.max(...schemas.map((message) => Number(message.timestamp)));
      const executions = await readTopicFor(fixture.kafka, fixture.topics.topicFor("execution"), 500);
      expect(firstSchemaAt).to.be.at.most(Number(executions[0]!.timestamp));
    } finally {
      await fixture.cleanup();
    }
  });

  it("sends records all the same, with one warning, where the schemas topic does not exist", async () => {
    const fixture = await topicFixture(1, { schemasTopic: false });
    try {
      const logger = capturingLogger();
      const producer = createProducer({
        brokers: fixture.brokers,
        topics: fixture.topics,
        spool: false,
        logger,
      });
      const context = TraceContext.create();
      for (let i = 0; i < 3; i++) {
        producer.emitEvent({ event_kind: "CUSTOM", name: `step ${i}` }, context);
        await producer.flush();
      }
      await producer.close();
      expect(
        (await fixture.consume(3)).map((r) => (r.decoded.record as { name?: string }).name),
      ).to.deep.equal(["step 0", "step 1", "step 2"]);
      expect(logger.warnings.filter((text) => /schemas topic does not exist/.test(text))).to.have.length(1);
    } finally {
      await fixture.cleanup();
    }
  });
});
