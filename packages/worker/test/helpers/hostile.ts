import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ClickHouseTraceSchema } from "@tracehouse/clickhouse";
import type { Sink } from "@tracehouse/clickhouse";
import { TraceContext } from "@tracehouse/context";
import { RecordType, nowMicros } from "@tracehouse/schemas";
import { testTopics, uniqueName, useKafka } from "@tracehouse/testkit";
import type { TestTopics } from "@tracehouse/testkit";
import { expect } from "chai";
import { CompressionTypes } from "kafkajs";
import type { Consumer, Kafka, KafkaMessage, Message } from "kafkajs";
import { Registry } from "prom-client";
import { createWorker, parseDeadLetterHeaders } from "../../src/index.js";
import type { DeadLetterInfo, Worker, WorkerOptions } from "../../src/index.js";
import { processSink, waitFor } from "./env.js";
import { messageOf, produceRaw, sampleRecord } from "./records.js";

export interface Letter {
  readonly info: DeadLetterInfo;
  readonly message: KafkaMessage;
}

/**
 * One worker over one event topic into a database with the default TTL (90 days), a reader of its
 * dead-letter topic, and the checks every hostile case ends with: still consuming, neighbours
 * written, the dead letter's reason, offsets past everything, memory bounded.
 */
export class HostileHarness {
  readonly letters: Letter[] = [];
  worker!: Worker;
  topic!: string;
  dlq!: string;
  groupId!: string;
  kafka!: Kafka;
  sink!: Sink;
  #admin!: TestTopics;
  #reader!: Consumer;
  #produced = 0;

  constructor(private readonly options: Partial<WorkerOptions> = {}) {}

  async start(topicConfig: { name: string; value: string }[] = []): Promise<void> {
    const brokers = [...(await useKafka()).brokers];
    this.#admin = await testTopics();
    this.kafka = this.#admin.kafka;
    this.topic = await this.#admin.create("hostile", { numPartitions: 1, configEntries: topicConfig });
    this.dlq = await this.#admin.create("hostile_dlq", { numPartitions: 1 });
    this.sink = processSink(uniqueName("hostile"));
    await new ClickHouseTraceSchema(this.sink).createTables();
    this.#reader = this.kafka.consumer({ groupId: uniqueName("dlq_reader"), maxWaitTimeInMs: 100 });
    await this.#reader.connect();
    await this.#reader.subscribe({ topic: this.dlq, fromBeginning: true });
    await this.#reader.run({
      eachMessage: async ({ message }) => {
        const info = parseDeadLetterHeaders(message.headers);
        if (info !== null) this.letters.push({ info, message });
      },
    });
    this.groupId = uniqueName("hostile_g");
    this.worker = createWorker({
      brokers,
      groupId: this.groupId,
      topics: [this.topic],
      deadLetterTopic: this.dlq,
      sink: this.sink,
      flushIntervalMs: 100,
      maxDeadLetterRatio: 1,
      retryBaseDelayMs: 10,
      retryMaxDelayMs: 50,
      maxRetries: 2,
      healthPort: 0,
      healthHost: "127.0.0.1",
      registry: new Registry(),
      ...this.options,
    });
    await this.worker.start();
  }

  async stop(): Promise<void> {
    await this.worker?.stop().catch(() => undefined);
    await this.#reader?.disconnect().catch(() => undefined);
    await this.#admin?.cleanup().catch(() => undefined);
    await this.sink?.command(`DROP DATABASE IF EXISTS ${this.sink.database} SYNC`).catch(() => undefined);
    await this.sink?.close();
  }

  /** A valid event with the current time, in its own trace unless one is given. */
  goodEvent(context = TraceContext.create().child(), changes: Record<string, unknown> = {}) {
    const record = { ...sampleRecord(RecordType.Event, context, 1), event_time: nowMicros(), ...changes };
    return { record, message: messageOf({ type: RecordType.Event, record: record as never, context }) };
  }

  /**
   * Produces in one request. `compressed` (gzip) lets records whose total exceeds the broker's
   * message size in, as one batch the worker then fetches together.
   */
  async send(messages: readonly Message[], compressed = false): Promise<void> {
    if (compressed) {
      const producer = this.kafka.producer();
      await producer.connect();
      try {
        await producer.send({
          topic: this.topic,
          acks: -1,
          compression: CompressionTypes.GZIP,
          messages: [...messages],
        });
      } finally {
        await producer.disconnect();
      }
    } else await produceRaw(this.kafka, this.topic, messages);
    this.#produced += messages.length;
  }

  /** Produces from another process, in one lz4-compressed batch (lz4 is registered there, not here). */
  async sendLz4FromAnotherProcess(messages: readonly Message[]): Promise<void> {
    const base64 = (value: Message["value"] | undefined): string | null =>
      value === null || value === undefined ? null : Buffer.from(value).toString("base64");
    const wire = messages.map((message) => ({
      key: base64(message.key),
      value: base64(message.value),
      headers: Object.fromEntries(
        Object.entries(message.headers ?? {}).map(([name, value]) => [name, base64(value as Buffer)]),
      ),
    }));
    const script = fileURLToPath(new URL("./produce-lz4.ts", import.meta.url));
    const brokers = [...(await useKafka()).brokers];
    await promisify(execFile)(process.execPath, [
      "--import",
      "tsx",
      script,
      JSON.stringify({ brokers, topic: this.topic, messages: wire }),
    ]);
    this.#produced += messages.length;
  }

  /**
   * Text lines produced by Kafka's own Java console producer (the broker's jars) with `compression`
   * (zstd or snappy: what producers in other languages use and kafkajs cannot read), in one batch.
   */
  async sendFromJavaProducer(lines: readonly string[], compression: "zstd" | "snappy"): Promise<void> {
    const kafka = fileURLToPath(new URL("../../../../infra/kafka/", import.meta.url));
    const brokers = [...(await useKafka()).brokers];
    const java = execFile(
      "java",
      [
        `-Dlog4j.configuration=file:${kafka}log4j.properties`,
        "-cp",
        `${kafka}.local/libs/*`,
        "kafka.tools.ConsoleProducer",
        "--bootstrap-server",
        brokers.join(","),
        "--topic",
        this.topic,
        "--compression-codec",
        compression,
        "--producer-property",
        "linger.ms=500",
      ],
      { timeout: 60_000 },
    );
    java.stdin!.end(lines.map((line) => `${line}\n`).join(""));
    const code = await new Promise<number | null>((resolve) => java.on("close", resolve));
    if (code !== 0) throw new Error(`console producer (${compression}) exited with ${String(code)}`);
    this.#produced += lines.length;
  }

  async readyz(): Promise<number> {
    const address = this.worker.healthAddress()!;
    return (await fetch(`http://${address.host}:${address.port}/readyz`)).status;
  }

  async committed(): Promise<number> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const [entry] = await admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] });
      return Number(entry?.partitions[0]?.offset ?? -1);
    } finally {
      await admin.disconnect();
    }
  }

  async storedIds(ids: readonly string[]): Promise<string[]> {
    const rows = await this.sink.query<{ event_id: string }>(
      `SELECT DISTINCT event_id FROM ${this.sink.database}.agent_events WHERE event_id IN {ids:Array(String)}`,
      { ids: [...ids] },
    );
    return rows.map((row) => row.event_id);
  }

  /** Waits for `count` dead letters with `reason` from offsets at or after `from`. */
  async lettersFor(reason: string, count: number, from = 0): Promise<Letter[]> {
    return waitFor(
      async () => {
        const found = this.letters.filter(
          (letter) => letter.info.reason === reason && Number(letter.info.offset) >= from,
        );
        return found.length >= count ? found : null;
      },
      { timeoutMs: 60_000, what: `${count} dead letters ${reason}` },
    );
  }

  /** The checks after every case: neighbours written, offsets past everything, consuming, bounded memory. */
  async expectHealthy(neighbours: readonly string[]): Promise<void> {
    await waitFor(async () => (await this.storedIds(neighbours)).length === neighbours.length, {
      timeoutMs: 60_000,
      what: `${neighbours.length} neighbours written`,
    });
    await waitFor(async () => (await this.committed()) === this.#produced, {
      timeoutMs: 30_000,
      what: `offsets committed up to ${this.#produced}`,
    });
    expect(this.worker.status().state).to.equal("running");
    expect(this.worker.status().error).to.equal(null);
    await waitFor(async () => (await this.readyz()) === 200, { what: "/readyz 200" });
    const probe = this.goodEvent();
    await this.send([probe.message]);
    await waitFor(async () => (await this.storedIds([probe.record.event_id])).length === 1, {
      timeoutMs: 30_000,
      what: "a later record written",
    });
    await waitFor(async () => (await this.committed()) === this.#produced, { what: "offsets committed" });
    expect(process.memoryUsage().heapUsed, "V8 heap").to.be.below(768 * 1024 * 1024);
  }

  get produced(): number {
    return this.#produced;
  }
}
