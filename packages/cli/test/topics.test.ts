import { useKafka, uniqueName } from "@tracehouse/testkit";
import { expect } from "chai";
import { Kafka, logLevel } from "kafkajs";
import { runCli } from "./helpers/cli.js";

describe("tracehouse topics create|verify", function () {
  this.timeout(120_000);
  let brokers: string;
  const prefix = `${uniqueName("topics")}.`;

  before(async () => {
    brokers = (await useKafka()).brokers.join(",");
  });

  after(async () => {
    const kafka = new Kafka({
      clientId: "topics-test",
      brokers: brokers.split(","),
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const mine = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
      if (mine.length > 0) await admin.deleteTopics({ topics: mine });
    } finally {
      await admin.disconnect();
    }
  });

  it("verify fails on missing topics, create makes them from the catalogue, then verify passes", async () => {
    const common = ["--brokers", brokers, "--topic-prefix", prefix];
    const missing = await runCli(["topics", "verify", ...common]);
    expect(missing.code, missing.stderr).to.equal(1);
    expect(missing.stdout).to.match(new RegExp(`missing\\s+${prefix.replace(".", "\\.")}events`));
    expect(missing.stdout).to.include("topics incomplete");

    const created = await runCli(["topics", "create", ...common, "--json"]);
    expect(created.code, created.stderr).to.equal(0);
    const report = JSON.parse(created.stdout) as { ok: boolean; topics: { name: string; status: string }[] };
    expect(report.ok).to.equal(true);
    expect(report.topics.map((t) => t.name)).to.include.members([
      `${prefix}events`,
      `${prefix}dlq`,
      `${prefix}schemas`,
    ]);
    expect(report.topics.every((t) => t.status === "created")).to.equal(true);

    const again = await runCli(["topics", "create", ...common]);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.match(/^exists/m);

    const verified = await runCli(["topics", "verify", ...common]);
    expect(verified.code, verified.stderr).to.equal(0);
    expect(verified.stdout).to.include("topics complete");
  });
});
