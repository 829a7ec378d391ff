import { expect } from "chai";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTopicCatalogue } from "@tracehouse/schemas";
import { testKafka, uniqueName, useKafka } from "@tracehouse/testkit";
import { createProducer, ensureTopics, TopicStatus, verifyTopics } from "../src/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));

function smallCatalogue() {
  const overrides = Object.fromEntries(
    ["execution", "event", "metrics", "correlation", "error", "span", "dlq"].map((family) => [
      family,
      { partitions: 2 },
    ]),
  );
  return createTopicCatalogue({ prefix: `${uniqueName("topics")}.`, overrides });
}

describe("topics", function () {
  this.timeout(120_000);
  const created: string[] = [];

  after(async () => {
    const admin = (await testKafka()).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: created }).catch(() => undefined);
    await admin.disconnect();
  });

  it("verifyTopics reports missing topics; ensureTopics creates them and reports settings that differ", async () => {
    const { brokers } = await useKafka();
    const topics = smallCatalogue();
    created.push(...topics.all.map((t) => t.name));
    const before = await verifyTopics(brokers, { topics });
    expect(before.ok).to.equal(false);
    expect(new Set(before.topics.map((t) => t.status))).to.deep.equal(new Set([TopicStatus.Missing]));

    const kafka = await testKafka();
    const admin = kafka.admin();
    await admin.connect();
    const odd = topics.topicFor("event");
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: odd, numPartitions: 1, replicationFactor: 1 }],
    });
    await admin.disconnect();

    const ensured = await ensureTopics(kafka, { topics });
    expect(ensured.ok).to.equal(false);
    const byName = new Map(ensured.topics.map((t) => [t.name, t]));
    expect(byName.get(odd)?.status).to.equal(TopicStatus.Mismatched);
    expect(byName.get(odd)?.mismatches).to.deep.include({
      setting: "partitions",
      expected: "2",
      actual: "1",
    });
    expect(byName.get(odd)?.mismatches.map((m) => m.setting)).to.include("retention.ms");
    for (const spec of topics.all.filter((t) => t.name !== odd)) {
      expect(byName.get(spec.name)?.status, spec.name).to.equal(TopicStatus.Created);
    }

    const after = await verifyTopics(brokers, { topics });
    for (const result of after.topics) {
      expect(result.status, result.name).to.equal(
        result.name === odd ? TopicStatus.Mismatched : TopicStatus.Exists,
      );
    }
    const again = await ensureTopics(brokers, { topics });
    expect(again.topics.filter((t) => t.status === TopicStatus.Created)).to.deep.equal([]);
  });

  it("a producer with ensureTopics creates its topics before the first send", async () => {
    const { brokers } = await useKafka();
    const topics = smallCatalogue();
    created.push(...topics.all.map((t) => t.name));
    const producer = createProducer({ brokers, topics, spool: false, ensureTopics: true });
    producer.emitEvent({ event_kind: "CUSTOM", name: "first" });
    await producer.flush({ timeoutMs: 60_000 });
    expect(producer.stats().sent).to.equal(1);
    await producer.close();
    expect((await verifyTopics(brokers, { topics })).ok).to.equal(true);
  });

  it("a producer that cannot deliver says so once on stderr by default", () => {
    const child = spawnSync(
      process.execPath,
      ["--import", "tsx", path.join(here, "fixtures", "undeliverable-child.ts")],
      {
        encoding: "utf8",
      },
    );
    expect(child.status).to.equal(0);
    const lines = child.stderr.split("\n").filter((line) => line.includes("kafka send failed"));
    expect(lines, child.stderr).to.have.length(1);
    expect(lines[0]).to.match(/^tracehouse producer warn: /);
  });
});
