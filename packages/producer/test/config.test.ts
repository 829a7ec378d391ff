import { expect } from "chai";
import { ConfigError, ErrorCode, isTracehouseError } from "@tracehouse/schemas";
import { testKafka } from "@tracehouse/testkit";
import { createProducer, resolveProducerConfig } from "../src/index.js";
import type { ProducerOptions } from "../src/index.js";
import { tempSpoolDir } from "./helpers/kafka.js";

const brokers = ["127.0.0.1:1"];

function configError(options: ProducerOptions): ConfigError {
  try {
    resolveProducerConfig(options);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    const typed = error as ConfigError;
    expect(typed.name).to.equal("ConfigError");
    expect(typed.code).to.equal(ErrorCode.Config);
    expect(typed.retriable).to.equal(false);
    return typed;
  }
  throw new Error(`no ConfigError for ${JSON.stringify(options)}`);
}

describe("producer options", () => {
  it("resolves documented defaults", () => {
    const config = resolveProducerConfig({ brokers, clientId: "agent-1" });
    expect(config.compression).to.equal("gzip");
    expect(config.backpressure).to.equal("spill");
    expect(config.maxQueueRecords).to.equal(100_000);
    expect(config.maxBatchBytes).to.equal(1024 * 1024);
    expect(config.lingerMs).to.equal(5);
    expect(config.spool?.fsync).to.equal("interval");
    expect(config.spool?.dir).to.match(/tracehouse-spool[\\/]agent-1$/);
    expect(config.spool?.slots).to.equal(64);
    expect(config.sampling.rates.event).to.equal(1);
    expect(config.topics.topicFor("execution")).to.equal("tracehouse.executions");
    expect(resolveProducerConfig({ brokers, spool: false }).backpressure).to.equal("drop");
    expect(Object.isFrozen(config)).to.equal(true);
  });

  it("throws a typed ConfigError on invalid or contradictory options", async () => {
    const kafka = await testKafka();
    expect(configError({}).message).to.include("brokers is required");
    expect(configError({ brokers, kafka }).message).to.include("either brokers or kafka");
    expect(configError({ brokers: ["no-port"] }).message).to.include("host:port");
    expect(configError({ brokers, spool: false, backpressure: "spill" }).message).to.include(
      "needs the spool",
    );
    expect(configError({ brokers, spool: { fsync: "always", fsyncIntervalMs: 10 } }).message).to.include(
      "fsyncIntervalMs",
    );
    expect(configError({ brokers, maxRecordBytes: 2000, maxBatchBytes: 1000 }).message).to.include(
      "maxRecordBytes",
    );
    expect(configError({ brokers, spool: { maxBytes: 100, segmentBytes: 200 } }).message).to.include(
      "segmentBytes",
    );
    expect(configError({ brokers, sampling: { rates: { error: 0.5 } } }).message).to.include(
      "errors are always kept",
    );
    expect(configError({ brokers, sampling: { rate: 1.5 } }).message).to.include("sampling.rate");
    expect(configError({ brokers, lingerMs: -1 }).message).to.include("lingerMs");
    expect(configError({ brokers, maxRetryBackoffMs: 10, retryBackoffMs: 100 }).message).to.include(
      "maxRetryBackoffMs",
    );
    expect(configError({ brokers, compression: "brotli" as never }).message).to.include("compression");
    expect(configError({ brokers, sendRetries: 0 }).message).to.include("sendRetries");
  });

  it("refuses a codec kafkajs does not have, and a spool directory another producer holds", async () => {
    expect(() => createProducer({ brokers, spool: false, compression: "zstd" })).to.throw(
      ConfigError,
      /zstd/,
    );
    const tmp = tempSpoolDir();
    const first = createProducer({ brokers, spool: { dir: tmp.dir }, closeTimeoutMs: 50 });
    try {
      expect(() => createProducer({ brokers, spool: { dir: tmp.dir } }))
        .to.throw()
        .that.satisfies((e: unknown) => isTracehouseError(e) && e.code === ErrorCode.Spool && !e.retriable);
    } finally {
      await first.close();
      tmp.remove();
    }
  });
});
