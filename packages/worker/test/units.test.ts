import { createRequire } from "node:module";
import { ConfigError, backoffDelayMs, retry } from "@tracehouse/schemas";
import { expect } from "chai";
import {
  KafkaJSBrokerNotFound,
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from "kafkajs";
import { WORKER_DEFAULTS, resolveWorkerConfig } from "../src/index.js";
import { PartitionOffsets } from "../src/internal/PartitionOffsets.js";
import { isCoordinatorLost } from "../src/internal/coordinator-lost.js";
import { RejoinGate } from "../src/internal/rejoin-gate.js";
import { ttlDaysOf } from "../src/internal/table-ttl.js";
import { dedupToken } from "../src/internal/steps/batch-key.js";
import { unsnappy } from "../src/internal/read-codecs.js";

describe("snappy batches", () => {
  const snappy = createRequire(import.meta.url)("snappyjs") as {
    compress(input: Uint8Array): Uint8Array;
    uncompress(input: Uint8Array): Uint8Array;
  };
  const text = Buffer.from("a record, ".repeat(50));

  it("reads one raw snappy block and the Java clients' framing (header, then length-prefixed blocks)", () => {
    expect(unsnappy(snappy, Buffer.from(snappy.compress(text))).equals(text)).to.equal(true);
    const block = Buffer.from(snappy.compress(text));
    const length = Buffer.alloc(4);
    length.writeInt32BE(block.length);
    const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
    const framed = Buffer.concat([header, length, block, length, block]);
    expect(unsnappy(snappy, framed).equals(Buffer.concat([text, text]))).to.equal(true);
    expect(() => unsnappy(snappy, framed.subarray(0, framed.length - 3))).to.throw(/truncated/);
  });
});

describe("table TTL", () => {
  it("reads the TTL days back from a CREATE TABLE statement", () => {
    expect(
      ttlDaysOf(
        "CREATE TABLE d.t (`x` Int8) ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(event_time) ORDER BY x TTL toDateTime(event_time) + toIntervalDay(90) SETTINGS index_granularity = 8192",
      ),
    ).to.equal(90);
    expect(ttlDaysOf("CREATE TABLE d.t (`x` Int8) ENGINE = MergeTree ORDER BY x")).to.equal(null);
  });
});

describe("partition offsets", () => {
  it("commits up to the first record not yet written, then past everything seen", () => {
    const offsets = new PartitionOffsets("t", 0);
    expect(offsets.toCommit()).to.equal(null);
    for (const offset of [10, 11, 12, 13]) expect(offsets.add(offset)).to.equal(true);
    offsets.seenUntil(15);
    offsets.markDone(11);
    offsets.markDone(13);
    expect(offsets.committable()).to.equal(10);
    offsets.markDone(10);
    expect(offsets.committable()).to.equal(12);
    offsets.markDone(12);
    expect(offsets.toCommit()).to.equal(15);
    offsets.committedAt(15);
    expect(offsets.toCommit()).to.equal(null);
    expect(offsets.pending).to.equal(0);
  });

  it("ignores redelivered records and, once retired, every completion", () => {
    const offsets = new PartitionOffsets("t", 0);
    offsets.add(5);
    expect(offsets.add(5)).to.equal(false);
    expect(offsets.add(3)).to.equal(false);
    offsets.retire();
    offsets.markDone(5);
    expect(offsets.retired).to.equal(true);
    expect(offsets.toCommit()).to.equal(null);
    expect(offsets.add(6)).to.equal(false);
  });
});

describe("dedup tokens", () => {
  it("depend on the table and the exact offset ranges, nothing else", () => {
    const a = new PartitionOffsets("topic", 0);
    const b = new PartitionOffsets("topic", 1);
    const refs = (list: [PartitionOffsets, number][]) =>
      list.map(([offsets, offset]) => ({ offsets, offset }));
    const batch = refs([
      [a, 1],
      [a, 2],
      [b, 7],
    ]);
    const again = refs([
      [new PartitionOffsets("topic", 0), 1],
      [new PartitionOffsets("topic", 0), 2],
      [new PartitionOffsets("topic", 1), 7],
    ]);
    expect(dedupToken("agent_events", again), "same ranges after a restart").to.equal(
      dedupToken("agent_events", batch),
    );
    expect(dedupToken("spans", batch)).to.not.equal(dedupToken("agent_events", batch));
    expect(dedupToken("agent_events", batch.slice(0, 2))).to.not.equal(dedupToken("agent_events", batch));
    expect(
      dedupToken(
        "agent_events",
        refs([
          [a, 1],
          [a, 3],
          [b, 7],
        ]),
      ),
    ).to.not.equal(dedupToken("agent_events", batch));
  });
});

describe("retries", () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 1000, maxRetries: 3 };

  it("backs off exponentially with full jitter, capped", () => {
    expect(backoffDelayMs(policy, 0, () => 0.999)).to.equal(99);
    expect(backoffDelayMs(policy, 3, () => 0.999)).to.equal(799);
    expect(backoffDelayMs(policy, 10, () => 0.999)).to.equal(999);
    expect(backoffDelayMs(policy, 10, () => 0)).to.equal(0);
  });

  it("retries transient failures up to maxRetries and gives up at once on permanent ones", async () => {
    let calls = 0;
    const attempts: number[] = [];
    const fast = { baseDelayMs: 1, maxDelayMs: 2, maxRetries: 3 };
    const failure = await retry(
      async () => {
        calls++;
        throw Object.assign(new Error("broker away"), { retriable: true });
      },
      { policy: fast, onRetry: ({ retry: attempt }) => attempts.push(attempt) },
    ).catch((error: unknown) => error);
    expect((failure as Error).message).to.equal("broker away");
    expect(calls).to.equal(4);
    expect(attempts).to.deep.equal([1, 2, 3]);
    calls = 0;
    const permanent = await retry(
      async () => {
        calls++;
        throw new ConfigError("never");
      },
      { policy: fast },
    ).catch((error: unknown) => error);
    expect(permanent).to.be.instanceOf(ConfigError);
    expect(calls).to.equal(1);
    let flaky = 0;
    expect(
      await retry(
        async () => {
          if (++flaky < 3) throw new Error("socket hang up");
          return "ok";
        },
        { policy: fast },
      ),
    ).to.equal("ok");
  });
});

describe("worker configuration", () => {
  it("resolves defaults into a complete config over the catalogue topics", () => {
    const config = resolveWorkerConfig();
    expect(config.topics).to.deep.equal([
      "tracehouse.executions",
      "tracehouse.events",
      "tracehouse.metrics",
      "tracehouse.correlations",
      "tracehouse.errors",
      "tracehouse.spans",
    ]);
    expect(config.deadLetterTopic).to.equal("tracehouse.dlq");
    expect(config).to.include({
      groupId: WORKER_DEFAULTS.groupId,
      maxBatchRows: WORKER_DEFAULTS.maxBatchRows,
      flushIntervalMs: WORKER_DEFAULTS.flushIntervalMs,
      healthPort: null,
    });
    expect(config.retry).to.deep.equal({ baseDelayMs: 100, maxDelayMs: 30_000, maxRetries: 10 });
    expect(Object.isFrozen(config)).to.equal(true);
  });

  it("derives topics from the selected tables and a prefix", () => {
    const config = resolveWorkerConfig({ topicPrefix: "prod.", tables: ["spans", "agent_events"] });
    expect(config.topics).to.deep.equal(["prod.events", "prod.spans"]);
    expect(config.deadLetterTopic).to.equal("prod.dlq");
  });
});

describe("commit errors that mean the coordinator is lost", () => {
  /** A broker's error as kafkajs raises it (its code table entry wrapped in its protocol error). */
  const protocolError = (type: string, code: number, message: string): KafkaJSProtocolError =>
    new KafkaJSProtocolError(Object.assign(new Error(message), { type, code, retriable: true }));

  it("knows the coordinator errors, directly and behind kafkajs's retries", () => {
    const moved = protocolError(
      "NOT_COORDINATOR_FOR_GROUP",
      16,
      "This is not the correct coordinator for this group",
    );
    expect(isCoordinatorLost(moved)).to.equal(true);
    expect(
      isCoordinatorLost(new KafkaJSNumberOfRetriesExceeded(moved, { retryCount: 1, retryTime: 100 })),
    ).to.equal(true);
    expect(isCoordinatorLost(protocolError("GROUP_LOAD_IN_PROGRESS", 14, "loading"))).to.equal(true);
    expect(isCoordinatorLost(protocolError("GROUP_COORDINATOR_NOT_AVAILABLE", 15, "not available"))).to.equal(
      true,
    );
    // the node it commits to is gone from metadata another broker answered (its declared constructor
    // takes nothing; kafkajs passes the message)
    const notFound = Reflect.construct(KafkaJSBrokerNotFound, ["Broker 3 not found in the cached metadata"]);
    expect(isCoordinatorLost(notFound)).to.equal(true);
    expect(
      isCoordinatorLost(new KafkaJSNumberOfRetriesExceeded(notFound, { retryCount: 1, retryTime: 100 })),
    ).to.equal(true);
  });

  it("leaves every other commit error to the retries, a coordinator not reached too", () => {
    // no broker answering: a restart would fail and leave the consumer stopped
    expect(isCoordinatorLost(new KafkaJSConnectionError("Connection error: connect ECONNREFUSED"))).to.equal(
      false,
    );
    expect(isCoordinatorLost(protocolError("REBALANCE_IN_PROGRESS", 27, "rebalancing"))).to.equal(false);
    expect(isCoordinatorLost(protocolError("ILLEGAL_GENERATION", 22, "illegal generation"))).to.equal(false);
    expect(isCoordinatorLost(new Error("This is not the correct coordinator for this group"))).to.equal(
      false,
    );
    expect(isCoordinatorLost("NOT_COORDINATOR_FOR_GROUP")).to.equal(false);
    expect(isCoordinatorLost(null)).to.equal(false);
  });
});

describe("rejoin gate", () => {
  it("lets commits through at once while closed, and holds them until the consumer joined", async () => {
    const gate = new RejoinGate();
    await gate.wait(10);
    gate.enter();
    let through = false;
    const waiting = gate.wait(5_000).then(() => (through = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(through).to.equal(false);
    gate.joined();
    await waiting;
    expect(gate.open).to.equal(false);
  });

  it("rejects a wait that outlasts its bound, naming it", async () => {
    const gate = new RejoinGate();
    gate.enter();
    let error: unknown;
    await gate.wait(30).catch((caught: unknown) => (error = caught));
    expect(String(error)).to.contain("did not rejoin its group within 30 ms");
  });

  it("a failed restart closes only the gate it opened", () => {
    const gate = new RejoinGate();
    const first = gate.enter();
    gate.joined();
    const second = gate.enter();
    gate.cancel(first);
    expect(gate.open).to.equal(true);
    gate.cancel(second);
    expect(gate.open).to.equal(false);
  });
});
