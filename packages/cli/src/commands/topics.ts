import { ensureTopics, verifyTopics } from "@tracehouse/producer";
import type { TopicsReport, TopicsOptions, TopicsTarget } from "@tracehouse/producer";
import { createTopicCatalogue, resolveKafkaSecurity } from "@tracehouse/schemas";
import type { Command } from "commander";
import kafkajs from "kafkajs";
import { ExitCode, ExitWith } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { KAFKA_CONNECTION, KAFKA_SECURITY, kafkaSecurityFrom } from "../options/kafka.js";
import { addOptions, optionTable, readOptions, valueSources } from "../options/spec.js";
import type { RawOptions } from "../options/spec.js";
import { escapeControl, safeJson } from "../terminal-text.js";

export const TOPICS = optionTable("Topics", {
  replicationFactor: {
    type: "integer",
    flag: "replication-factor",
    env: "TRACEHOUSE_REPLICATION_FACTOR",
    min: 1,
    defaultText: "3, or the broker count when fewer",
    doc: "replicas of each created topic",
  },
});

type TopicsAction = (target: TopicsTarget, options: TopicsOptions) => Promise<TopicsReport>;

const ACTIONS: readonly (readonly [string, string, TopicsAction])[] = [
  [
    "create",
    "create the catalogue's topics that are missing (partitions, retention and compaction from the catalogue); exit 1 when an existing one differs",
    ensureTopics,
  ],
  [
    "verify",
    "check that every catalogue topic exists with the catalogue's settings; exit 1 when not",
    verifyTopics,
  ],
];

function render(report: TopicsReport): string {
  const lines = report.topics.map((topic) => {
    const differences = topic.mismatches
      .map((m) => `${m.setting} ${escapeControl(m.actual)} (want ${escapeControl(m.expected)})`)
      .join(", ");
    return `${topic.status.padEnd(11)}${escapeControl(topic.name)}${differences === "" ? "" : `: ${differences}`}`;
  });
  return `${lines.join("\n")}\n${report.ok ? "topics complete" : "topics incomplete"}\n`;
}

export function registerTopics(program: Command, io: Io): void {
  const topics = program
    .command("topics")
    .description("create or verify the catalogue's Kafka topics (tracehouse topics create|verify)");
  for (const [name, description, action] of ACTIONS) {
    const command = topics
      .command(name)
      .description(description)
      .option("--json", "print the report as JSON");
    addOptions(command, TOPICS);
    addOptions(command, KAFKA_CONNECTION);
    addOptions(command, KAFKA_SECURITY).action(async (raw: RawOptions) => {
      const sources = valueSources(command);
      const security = resolveKafkaSecurity(kafkaSecurityFrom(raw, process.env, sources));
      const { brokers, clientId, topicPrefix } = readOptions(KAFKA_CONNECTION, raw, sources);
      const kafka = new kafkajs.Kafka({
        clientId,
        brokers,
        logLevel: kafkajs.logLevel.NOTHING,
        ...security.clientOptions(),
      });
      const { replicationFactor } = readOptions(TOPICS, raw, sources);
      const report = await action(kafka, {
        topics: createTopicCatalogue({ prefix: topicPrefix }),
        ...(replicationFactor == null ? {} : { replicationFactor }),
      });
      io.out(raw.json === true ? safeJson(report) + "\n" : render(report));
      if (!report.ok) throw new ExitWith(ExitCode.Failed);
    });
  }
}
