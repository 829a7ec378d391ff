import { ensureTopics, verifyTopics } from "@tracehouse/producer";
import type { TopicsReport, TopicsOptions, TopicsTarget } from "@tracehouse/producer";
import { createTopicCatalogue, resolveKafkaSecurity } from "@tracehouse/schemas";
import { WORKER_DEFAULTS } from "@tracehouse/worker";
import type { Command } from "commander";
import { Option } from "commander";
import kafkajs from "kafkajs";
import { ExitCode, ExitWith } from "../command-kit.js";
import type { Io } from "../command-kit.js";
import { addKafkaConnectionOptions, integerOption, listOption } from "../options.js";
import type { RawOptions } from "../options.js";
import { addKafkaSecurityOptions, kafkaSecurityFrom } from "../security-options.js";
import { escapeControl, safeJson } from "../terminal-text.js";

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
      .addOption(
        new Option(
          "--replication-factor <n>",
          "replicas of each created topic (default: 3, or the broker count when fewer)",
        ).env("TRACEHOUSE_REPLICATION_FACTOR"),
      )
      .option("--json", "print the report as JSON");
    addKafkaSecurityOptions(addKafkaConnectionOptions(command)).action(async (raw: RawOptions) => {
      const security = resolveKafkaSecurity(kafkaSecurityFrom(raw, process.env));
      const kafka = new kafkajs.Kafka({
        clientId: typeof raw.clientId === "string" ? raw.clientId : WORKER_DEFAULTS.clientId,
        brokers: listOption(raw, "brokers") ?? [...WORKER_DEFAULTS.brokers],
        logLevel: kafkajs.logLevel.NOTHING,
        ...security.clientOptions(),
      });
      const prefix = typeof raw.topicPrefix === "string" ? raw.topicPrefix : WORKER_DEFAULTS.topicPrefix;
      const replicationFactor = integerOption(raw, "replicationFactor", "replication-factor");
      const report = await action(kafka, {
        topics: createTopicCatalogue({ prefix }),
        ...(replicationFactor === undefined ? {} : { replicationFactor }),
      });
      io.out(raw.json === true ? safeJson(report) + "\n" : render(report));
      if (!report.ok) throw new ExitWith(ExitCode.Failed);
    });
  }
}
