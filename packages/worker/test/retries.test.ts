import { createServer } from "node:net";
import type { AddressInfo, Server } from "node:net";
import { SinkError } from "@tracehouse/clickhouse";
import { uniqueName, useKafka } from "@tracehouse/testkit";
import { expect } from "chai";
import { Registry } from "prom-client";
import { RetriesExhaustedError, createWorker } from "../src/index.js";
import { FaultInjectingSink } from "./helpers/faults.js";
import { HostileHarness } from "./helpers/hostile.js";

/** A TCP server that reads each request's first bytes, counts INSERTs, and drops the connection. */
async function droppingServer(): Promise<{ server: Server; port: number; inserts: () => number }> {
  let inserts = 0;
  const server = createServer((socket) => {
    socket.once("data", (chunk) => {
      if (/INSERT/i.test(decodeURIComponent(chunk.toString("latin1").split("\r\n", 1)[0] ?? ""))) inserts++;
      socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, inserts: () => inserts };
}

async function metric(registry: Registry, name: string, labels: string): Promise<number> {
  const text = await registry.metrics();
  const line = text.split("\n").find((entry) => entry.startsWith(`${name}{${labels}}`));
  return Number(line?.split(" ").pop() ?? 0);
}

describe("worker: every retry has a bound", function () {
  this.timeout(180_000);

  it("stops with RetriesExhaustedError when ClickHouse is unreachable, after exactly maxRetries retries (no retry inside a retry)", async () => {
    const h = new HostileHarness();
    const dropping = await droppingServer();
    try {
      await h.start();
      await h.worker.stop();
      const registry = new Registry();
      const worker = createWorker({
        brokers: [...(await useKafka()).brokers],
        groupId: uniqueName("unreachable"),
        topics: [h.topic],
        deadLetterTopic: h.dlq,
        clickhouse: { url: `http://127.0.0.1:${dropping.port}`, database: "tracehouse" },
        flushIntervalMs: 50,
        retryBaseDelayMs: 10,
        retryMaxDelayMs: 20,
        maxRetries: 2,
        registry,
      });
      await worker.start();
      const event = h.goodEvent();
      await h.send([event.message]);
      const failure = await worker.done.then(
        () => null,
        (error: unknown) => error,
      );
      expect(failure).to.be.instanceOf(RetriesExhaustedError);
      expect((failure as RetriesExhaustedError).operation).to.equal("insert");
      expect((failure as RetriesExhaustedError).cause).to.be.instanceOf(SinkError);
      expect(dropping.inserts(), "insert attempts: one plus maxRetries").to.equal(3);
      expect(await metric(registry, "tracehouse_worker_retries_total", 'operation="insert"')).to.equal(2);
      expect(h.letters, "an outage is not dead-lettered").to.have.length(0);
    } finally {
      await h.stop();
      dropping.server.close();
    }
  });

  describe("a row the engine keeps failing on", () => {
    const h = new HostileHarness();
    before(async () => {
      await h.start();
      await h.worker.stop();
    });
    after(() => h.stop());

    it("is dead-lettered as retries_exhausted once its retries ran out; its neighbours are written", async () => {
      // The real engine, but a row named "heavy" fails every insert holding it (code 241).
      const sink = new FaultInjectingSink(h.sink, { heavyRow: (row) => row.name === "heavy" });
      const registry = new Registry();
      const worker = createWorker({
        brokers: [...(await useKafka()).brokers],
        groupId: h.groupId,
        topics: [h.topic],
        deadLetterTopic: h.dlq,
        sink,
        flushIntervalMs: 200,
        retryBaseDelayMs: 10,
        retryMaxDelayMs: 20,
        maxRetries: 2,
        maxDeadLetterRatio: 1,
        registry,
      });
      h.worker = worker;
      await worker.start();
      const neighbours = Array.from({ length: 9 }, () => h.goodEvent());
      const heavy = h.goodEvent(undefined, { name: "heavy" });
      const from = h.produced;
      await h.send([...neighbours.slice(0, 4), heavy, ...neighbours.slice(4)].map((event) => event.message));
      const [letter] = await h.lettersFor("retries_exhausted", 1, from);
      expect(letter!.info).to.include({ offset: String(from + 4), table: "agent_events" });
      expect(letter!.info.error).to.match(/memory limit/);
      const stored = await h.storedIds(neighbours.map((event) => event.record.event_id));
      expect(stored).to.have.length(9);
      expect(await metric(registry, "tracehouse_worker_retries_total", 'operation="insert"')).to.equal(2);
      expect(worker.status().state).to.equal("running");
    });
  });
});
