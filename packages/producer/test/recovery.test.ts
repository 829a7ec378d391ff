import { expect } from "chai";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TraceContext } from "@tracehouse/context";
import { newEventId } from "@tracehouse/schemas";
import { localKafkaControl } from "@tracehouse/testkit";
import { createProducer } from "../src/index.js";
import type { Producer } from "../src/index.js";
import { tempSpoolDir, topicFixture } from "./helpers/kafka.js";
import type { TopicFixture } from "./helpers/kafka.js";
import { expectExactlyOnceInOrder, waitFor } from "./helpers/delivery.js";
import type { Emitted } from "./helpers/delivery.js";

const here = path.dirname(fileURLToPath(import.meta.url));

/** Runs the child that emits while Kafka is unreachable; resolves with its records once they are all spooled, then kills it. */
async function spoolInChildAndKill(
  spoolDir: string,
  prefix: string,
  brokers: readonly string[],
  count: number,
) {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(here, "fixtures", "spool-child.ts"),
      spoolDir,
      prefix,
      brokers.join(","),
      String(count),
      "8",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on("exit", (_code, signal) => resolve(signal)),
  );
  try {
    await waitFor(
      () => stdout.includes("\n") || child.exitCode !== null,
      60_000,
      "the child to spool its records",
    );
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${String(error)}\nchild stderr:\n${stderr}`);
  }
  expect(child.exitCode, stderr).to.equal(null);
  expect(JSON.parse(fs.readFileSync(path.join(spoolDir, "LOCK"), "utf8")).pid).to.equal(child.pid);
  child.kill("SIGKILL");
  expect(await exited).to.equal("SIGKILL");
  return (JSON.parse(stdout) as { emitted: Emitted[] }).emitted;
}

describe("spool recovery", function () {
  this.timeout(240_000);
  let fixture: TopicFixture;
  let spool: ReturnType<typeof tempSpoolDir>;
  let producer: Producer | undefined;

  beforeEach(async () => {
    fixture = await topicFixture();
    spool = tempSpoolDir();
  });

  afterEach(async () => {
    await producer?.close({ timeoutMs: 2000 });
    producer = undefined;
    await fixture.cleanup();
    spool.remove();
  });

  it("a new producer sends what a killed process left in the spool", async () => {
    const control = await localKafkaControl();
    control.stop();
    let emitted: Emitted[];
    try {
      emitted = await spoolInChildAndKill(spool.dir, fixture.topics.prefix, fixture.brokers, 1500);
    } finally {
      control.start();
    }
    expect(emitted).to.have.length(1500);
    producer = createProducer({
      brokers: fixture.brokers,
      topics: fixture.topics,
      spool: { dir: spool.dir },
    });
    const recovering = producer;
    await waitFor(() => recovering.stats().recovered === 1500, 60_000, "the spooled records to be sent");
    expect(recovering.stats().dropped.corrupt).to.equal(0);
    await waitFor(() => recovering.stats().spoolBytes === 0, 10_000, "the spool to empty");
    expect(fs.readdirSync(spool.dir).filter((f) => f.endsWith(".seg"))).to.deep.equal([]);
    expectExactlyOnceInOrder(emitted, await fixture.consume(emitted.length));
  });

  it("skips a torn tail in a spool segment and sends the rest", async () => {
    const contexts = Array.from({ length: 5 }, () => TraceContext.create());
    const emitted: Emitted[] = [];
    const offline = createProducer({
      brokers: ["127.0.0.1:1"],
      topics: fixture.topics,
      spool: { dir: spool.dir, segmentBytes: 16 * 1024 },
      maxRecordBytes: 8192,
      connectionTimeoutMs: 200,
      retryBackoffMs: 50,
      closeTimeoutMs: 300,
    });
    for (let seq = 0; seq < 400; seq++) {
      const context = contexts[seq % contexts.length] as TraceContext;
      const eventId = newEventId();
      offline.emitEvent(
        { event_id: eventId, event_kind: "CUSTOM", name: "torn", metadata: { seq: String(seq) } },
        context,
      );
      emitted.push({ eventId, traceId: context.traceId, seq });
    }
    await offline.close();
    expect(offline.stats().spooled).to.equal(400);
    const names = fs
      .readdirSync(spool.dir)
      .filter((f) => f.endsWith(".seg"))
      .sort();
    expect(names.length).to.be.greaterThan(1);
    const last = path.join(spool.dir, names[names.length - 1]!);
    fs.truncateSync(last, fs.statSync(last).size - 7);

    producer = createProducer({
      brokers: fixture.brokers,
      topics: fixture.topics,
      spool: { dir: spool.dir },
    });
    const recovering = producer;
    await waitFor(() => recovering.stats().recovered === 399, 60_000, "399 spooled records to be sent");
    expect(recovering.stats().dropped.corrupt).to.equal(1);
    const received = await fixture.consume(399);
    expectExactlyOnceInOrder(emitted.slice(0, 399), received);
  });
});
