import { RecordType, avroSchemaOf, decodeRecord, fingerprintOfSchema } from "@tracehouse/schemas";
import type { Logger, DecodeError } from "@tracehouse/schemas";
import { testTopics } from "@tracehouse/testkit";
import type { TestTopics } from "@tracehouse/testkit";
import { expect } from "chai";
import { WriterSchemaResolver } from "../src/internal/WriterSchemaResolver.js";
import { newerExecution, newerExecutionSchema } from "./helpers/newer-writer.js";
import { produceRaw } from "./helpers/records.js";

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

async function decodeFails(resolver: WriterSchemaResolver, value: Buffer): Promise<DecodeError> {
  let first: unknown;
  try {
    decodeRecord(value);
  } catch (error) {
    first = error;
  }
  try {
    await resolver.decodeAgain(value, first);
  } catch (error) {
    expect(error, "the original error is rethrown").to.equal(first);
    return error as DecodeError;
  }
  throw new Error("expected the decode to fail");
}

describe("worker: writer schemas from the schemas topic", function () {
  this.timeout(120_000);
  let admin: TestTopics;
  let topic: string;

  before(async () => {
    admin = await testTopics();
    topic = await admin.create("wk_resolver_schemas", {
      configEntries: [{ name: "cleanup.policy", value: "compact" }],
    });
  });
  after(async () => admin?.cleanup());

  it("rejects schemas the reader cannot resolve or published under another key; the records stay undecodable", async () => {
    const incompatible = structuredClone(avroSchemaOf(RecordType.Execution)) as {
      fields: { name: string; type: unknown; default?: unknown }[];
    };
    incompatible.fields.find((field) => field.name === "duration_ms")!.type = ["null", "string"];
    const incompatibleJson = JSON.stringify(incompatible);
    const mislabelled = newerExecutionSchema("mislabelled_field");
    await produceRaw(admin.kafka, topic, [
      { key: fingerprintOfSchema(incompatibleJson), value: incompatibleJson },
      { key: "0123456789abcdef", value: mislabelled.json },
    ]);
    const logger = capturingLogger();
    const resolver = new WriterSchemaResolver({ kafka: admin.kafka, topic, logger, minReadIntervalMs: 0 });
    const record = newerExecution(mislabelled.fingerprint, 1);
    const error = await decodeFails(resolver, record.message.value as Buffer);
    expect(error.reason).to.equal("unknown_fingerprint");
    expect(logger.warnings.filter((w) => /writer schema rejected/.test(w))).to.have.length(2);
  });

  it("reads the topic at most once per interval and remembers misses, then finds a schema published later", async () => {
    const logger = capturingLogger();
    const resolver = new WriterSchemaResolver({
      kafka: admin.kafka,
      topic,
      logger,
      minReadIntervalMs: 1500,
      retryAfterMs: 1000,
    });
    const newer = newerExecutionSchema("late_field");
    expect(await resolver.resolve(newer.fingerprint)).to.equal(false);
    await produceRaw(admin.kafka, topic, [{ key: newer.fingerprint, value: newer.json }]);
    const started = Date.now();
    expect(await resolver.resolve(newer.fingerprint), "a miss is remembered").to.equal(false);
    expect(Date.now() - started, "without reading the topic").to.be.below(100);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const record = newerExecution(newer.fingerprint, 3);
    const decoded = await resolver
      .decodeAgain(record.message.value as Buffer, new Error("unrelated"))
      .catch((error: unknown) => error);
    expect(decoded, "errors other than an unknown fingerprint are rethrown").to.be.instanceOf(Error);
    expect(await resolver.resolve(newer.fingerprint)).to.equal(true);
  });

  it("treats a missing schemas topic as holding nothing, with a warning", async () => {
    const logger = capturingLogger();
    const resolver = new WriterSchemaResolver({ kafka: admin.kafka, topic: `${topic}-missing`, logger });
    expect(await resolver.resolve("00112233445566ff")).to.equal(false);
    expect(logger.warnings.some((w) => /schemas topic does not exist/.test(w))).to.equal(true);
  });
});
