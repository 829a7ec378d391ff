// The producer puts a produce request of its own in kafkajs's place (kafkajs's copies every message
// with a spread and every record batch several times): it must write exactly kafkajs's bytes, leave
// what it does not handle to kafkajs, be the request kafkajs really sends, and the broker must take
// its batches, compressed or not.
import { createRequire } from "node:module";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { expect } from "chai";
import kafkajs from "kafkajs";
import { testKafka, uniqueName, useKafka } from "@tracehouse/testkit";
import { directProduceRequest, GZIP_LEVEL, kafkajsParts } from "../src/internal/kafkajs-produce.js";
import type { ProduceArgs, ProduceRequestFactory } from "../src/internal/kafkajs-produce.js";
import {
  kafkajsOriginal,
  replacementAfterImport,
  replacementAfterKafkajs,
} from "./helpers/kafkajs-original.js";

const require = createRequire(import.meta.url);
const original = kafkajsOriginal<ProduceRequestFactory>("protocol/requests/produce/v3/request.js");
const Long = require("kafkajs/src/utils/long.js") as {
  fromInt(n: number): unknown;
  fromValue(n: unknown): unknown;
};
const direct = directProduceRequest(original, kafkajsParts()!, Long.fromInt(-1));
const { CompressionTypes } = kafkajs;

/** What each request encodes, or the error it throws, at one fixed time (batches carry the time). */
async function outcome(factory: ProduceRequestFactory, args: ProduceArgs): Promise<string> {
  const now = Date.now;
  Date.now = () => 1_764_000_000_123;
  try {
    return (await factory(args).encode()).buffer.toString("hex");
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  } finally {
    Date.now = now;
  }
}

const codecs = kafkajs.CompressionCodecs as Record<number, () => unknown>;
const kafkajsGzip = codecs[kafkajs.CompressionTypes.GZIP]!;
const gzip = promisify(zlib.gzip);
const gzipAt = (level: number) => () => ({
  compress: (encoder: { buffer: Buffer }) => gzip(encoder.buffer, { level }),
});

/** The same bytes as kafkajs, whose gzip codec writes at GZIP_LEVEL while it encodes. */
async function expectSameBytes(args: ProduceArgs): Promise<void> {
  codecs[kafkajs.CompressionTypes.GZIP] = gzipAt(GZIP_LEVEL);
  let expected: string;
  try {
    expected = await outcome(original, args);
  } finally {
    codecs[kafkajs.CompressionTypes.GZIP] = kafkajsGzip;
  }
  expect(await outcome(direct, args), JSON.stringify(args).slice(0, 300)).to.equal(expected);
}

function randomArgs(random: (n: number) => number, compression: number): ProduceArgs {
  const text = (): string =>
    ["", "a", "trace-7", "é", "日本語", "🙂", "x".repeat(63), "x".repeat(64), "y".repeat(70_000)][random(9)]!;
  const bytes = (): string | Buffer | null | undefined =>
    [null, undefined, text(), Buffer.from(text()), Buffer.alloc(random(3000), 7)][random(5)];
  const messages = (): ProduceArgs["topicData"][number]["partitions"][number]["messages"] =>
    Array.from({ length: 1 + random(150) }, () => {
      const headers: Record<string, string | Buffer | (string | Buffer)[]> = {};
      for (let h = random(4); h > 0; h--) {
        headers[text() || "k"] =
          random(4) === 0 ? [text(), Buffer.from(text())] : random(2) === 0 ? text() : Buffer.from(text());
      }
      return {
        key: bytes(),
        value: bytes(),
        ...(random(3) === 0 ? {} : { headers: Object.freeze(headers) }),
      };
    });
  return {
    acks: -1,
    timeout: 30_000,
    compression,
    producerId: Long.fromValue(1000 + random(100)),
    producerEpoch: random(3),
    ...(random(4) === 0 ? { transactionalId: "tx" } : {}),
    topicData: Array.from({ length: 1 + random(3) }, (_, t) => ({
      topic: `topic-${t}`,
      partitions: Array.from({ length: 1 + random(3) }, (_, p) => ({
        partition: p,
        firstSequence: random(5000),
        messages: messages(),
      })),
    })),
  };
}

describe("kafkajs's produce request, replaced", () => {
  it("writes the bytes kafkajs writes, uncompressed and gzipped, for random messages", async () => {
    let seed = 5;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 30; i++) {
      await expectSameBytes(randomArgs(random, i % 2 === 0 ? CompressionTypes.None : CompressionTypes.GZIP));
    }
    await expectSameBytes({
      acks: 1,
      timeout: 5,
      topicData: [{ topic: "t", partitions: [{ partition: 0, messages: [{ value: "v" }] }] }],
    });
  });

  it("gzips with an application's own gzip codec when one is registered", async () => {
    const args: ProduceArgs = {
      acks: -1,
      timeout: 1000,
      compression: CompressionTypes.GZIP,
      topicData: [{ topic: "t", partitions: [{ partition: 0, messages: [{ value: "v".repeat(5000) }] }] }],
    };
    const own = gzipAt(9);
    codecs[CompressionTypes.GZIP] = own;
    try {
      const expected = await outcome(original, args);
      expect(await outcome(direct, args)).to.equal(expected);
      codecs[CompressionTypes.GZIP] = kafkajsGzip;
      expect(await outcome(direct, args), "not at the producer's own level").not.to.equal(expected);
    } finally {
      codecs[CompressionTypes.GZIP] = kafkajsGzip;
    }
  });

  it("leaves to kafkajs what it does not write itself: its bytes, or the error it throws", async () => {
    const one = (message: Record<string, unknown>): ProduceArgs => ({
      acks: -1,
      timeout: 1000,
      topicData: [{ topic: "t", partitions: [{ partition: 2, messages: [{ value: "v" }, message] }] }],
    });
    for (const args of [
      one({ value: "v", timestamp: 1_700_000_000_000 }),
      one({ value: "v", timestamp: "1700000000000" }),
      one({ value: 42 }), // kafkajs throws
      one({ key: 7, value: "v" }),
      one({ value: "v", headers: { n: 7 } }), // kafkajs throws
      one({ value: "v", headers: { n: null } }),
      one({ value: "v", headers: { n: ["a", null] } }),
      { acks: -1, timeout: 1000, topicData: [{ topic: "t", partitions: [{ partition: 0, messages: [] }] }] },
      { acks: -1, timeout: 1000, compression: CompressionTypes.Snappy, topicData: one({}).topicData },
    ]) {
      await expectSameBytes(args);
    }
  });

  it("is the request kafkajs sends once the producer is imported first", () => {
    expect(
      replacementAfterImport(
        "directProduce",
        "protocol/requests/produce/v3/request.js",
        "protocol/requests/produce/v5/request.js",
        "protocol/requests/produce/v7/request.js",
      ),
    ).to.deep.equal({ state: "installed", used: true, direct: true });
  });

  it("leaves kafkajs as it is when the application loaded its newer produce requests first", () => {
    expect(replacementAfterKafkajs("directProduce", "protocol/requests/produce/v7/request.js")).to.equal(
      "kafkajs-loaded-first",
    );
  });

  it("sends batches the broker takes and a consumer reads back as sent, compressed or not", async function () {
    this.timeout(120_000);
    await import("../src/index.js");
    const { brokers } = await useKafka();
    const kafka = await testKafka();
    const topic = uniqueName("produce-request");
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
    });
    const producer = new kafkajs.Kafka({
      brokers: [...brokers],
      logLevel: kafkajs.logLevel.NOTHING,
    }).producer({
      idempotent: true,
      maxInFlightRequests: 1,
    });
    const consumer = kafka.consumer({ groupId: uniqueName("produce-request") });
    try {
      await producer.connect();
      type Sent = { key: string | null; value: string; headers: Record<string, string | string[]> };
      const sent: Sent[] = [];
      for (const compression of [CompressionTypes.None, CompressionTypes.GZIP]) {
        const messages = Array.from({ length: 300 }, (_, i): Sent => ({
          key: i % 7 === 0 ? null : `trace-${i % 5}`,
          value: `value ${compression} ${i} ${"é".repeat(i % 3)}${"z".repeat(i * 7)}`,
          headers: i % 2 === 0 ? { traceparent: `00-${i}-01`, many: ["a", "日本"] } : { one: "1" },
        }));
        sent.push(...messages);
        await producer.sendBatch({ acks: -1, compression, topicMessages: [{ topic, messages }] });
      }
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received: typeof sent = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`received ${received.length} of ${sent.length}`)),
          60_000,
        );
        void consumer.run({
          eachMessage: async ({ message }) => {
            const headers: Record<string, string | string[]> = {};
            for (const [name, value] of Object.entries(message.headers ?? {})) {
              headers[name] = Array.isArray(value) ? value.map(String) : String(value);
            }
            received.push({
              key: message.key?.toString() ?? null,
              value: message.value!.toString(),
              headers,
            });
            if (received.length === sent.length) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
      const order = (list: typeof sent) => [...list].sort((a, b) => a.value.localeCompare(b.value));
      expect(order(received)).to.deep.equal(order(sent));
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] });
      await admin.disconnect();
    }
  });
});
