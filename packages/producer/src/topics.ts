import kafkajs from "kafkajs";
import type { Admin, Kafka } from "kafkajs";
import { createTopicCatalogue, ErrorCode, TracehouseError } from "@tracehouse/schemas";
import type { TopicCatalogue, TopicSpec } from "@tracehouse/schemas";

/** What became of one topic of the catalogue. */
export const TopicStatus = {
  /** Created now, with the catalogue's settings. */
  Created: "created",
  /** Exists with the catalogue's partitions, retention and cleanup policy. */
  Exists: "exists",
  /** Exists with other settings; left as it is (see `mismatches`). */
  Mismatched: "mismatched",
  /** Does not exist (verify only). */
  Missing: "missing",
} as const;
export type TopicStatus = (typeof TopicStatus)[keyof typeof TopicStatus];

/** One setting of an existing topic that differs from the catalogue. */
export interface TopicMismatch {
  readonly setting: "partitions" | "retention.ms" | "cleanup.policy";
  readonly expected: string;
  readonly actual: string;
}

export interface TopicResult {
  readonly name: string;
  readonly status: TopicStatus;
  readonly mismatches: readonly TopicMismatch[];
}

/** Structured outcome of {@link ensureTopics} / {@link verifyTopics}, one entry per topic of the catalogue. */
export interface TopicsReport {
  /** True when every topic exists with the catalogue's settings. */
  readonly ok: boolean;
  readonly topics: readonly TopicResult[];
}

export interface TopicsOptions {
  /** Default: `createTopicCatalogue()`. */
  readonly topics?: TopicCatalogue;
  /** Replication factor of created topics. Default: 3, or the broker count when fewer. */
  readonly replicationFactor?: number;
}

/** A kafkajs client, or the bootstrap brokers to make one from. */
export type TopicsTarget = Kafka | readonly string[];

async function withAdmin<T>(target: TopicsTarget, action: (admin: Admin) => Promise<T>): Promise<T> {
  const kafka = Array.isArray(target)
    ? new kafkajs.Kafka({
        clientId: "tracehouse-topics",
        brokers: [...target],
        logLevel: kafkajs.logLevel.NOTHING,
      })
    : (target as Kafka);
  const admin = kafka.admin();
  try {
    await admin.connect();
    return await action(admin);
  } catch (cause) {
    throw new TracehouseError(`topic administration failed: ${String(cause)}`, {
      code: ErrorCode.Kafka,
      cause,
    });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function compare(
  admin: Admin,
  specs: readonly TopicSpec[],
  existing: ReadonlySet<string>,
): Promise<TopicResult[]> {
  const present = specs.filter((spec) => existing.has(spec.name));
  const metadata =
    present.length === 0
      ? { topics: [] }
      : await admin.fetchTopicMetadata({ topics: present.map((s) => s.name) });
  const configs =
    present.length === 0
      ? { resources: [] }
      : await admin.describeConfigs({
          includeSynonyms: false,
          resources: present.map((spec) => ({
            type: kafkajs.ConfigResourceTypes.TOPIC,
            name: spec.name,
            configNames: ["retention.ms", "cleanup.policy"],
          })),
        });
  return specs.map((spec) => {
    if (!existing.has(spec.name)) return { name: spec.name, status: TopicStatus.Missing, mismatches: [] };
    const mismatches: TopicMismatch[] = [];
    const partitions = metadata.topics.find((t) => t.name === spec.name)?.partitions.length ?? 0;
    if (partitions !== spec.partitions) {
      mismatches.push({
        setting: "partitions",
        expected: String(spec.partitions),
        actual: String(partitions),
      });
    }
    const entries = configs.resources.find((r) => r.resourceName === spec.name)?.configEntries ?? [];
    for (const setting of ["retention.ms", "cleanup.policy"] as const) {
      const expected = spec.configEntries.find((e) => e.name === setting)?.value ?? "";
      const actual = entries.find((e) => e.configName === setting)?.configValue ?? "";
      if (actual !== expected) mismatches.push({ setting, expected, actual });
    }
    return {
      name: spec.name,
      status: mismatches.length > 0 ? TopicStatus.Mismatched : TopicStatus.Exists,
      mismatches,
    };
  });
}

function report(topics: TopicResult[]): TopicsReport {
  return {
    ok: topics.every((t) => t.status === TopicStatus.Exists || t.status === TopicStatus.Created),
    topics,
  };
}

/** Checks that every topic of the catalogue exists with its partitions, retention and cleanup policy. Changes nothing. */
export function verifyTopics(target: TopicsTarget, options: TopicsOptions = {}): Promise<TopicsReport> {
  const catalogue = options.topics ?? createTopicCatalogue();
  return withAdmin(target, async (admin) =>
    report(await compare(admin, catalogue.all, new Set(await admin.listTopics()))),
  );
}

/**
 * Creates the catalogue's missing topics with its partitions, retention and cleanup policy,
 * and reports existing ones whose settings differ (they are not altered). Throws a
 * TracehouseError (code KAFKA) when the brokers cannot be reached or refuse.
 */
export function ensureTopics(target: TopicsTarget, options: TopicsOptions = {}): Promise<TopicsReport> {
  const catalogue = options.topics ?? createTopicCatalogue();
  return withAdmin(target, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = catalogue.all.filter((spec) => !existing.has(spec.name));
    if (missing.length > 0) {
      const brokers = (await admin.describeCluster()).brokers.length;
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((spec) => ({
          topic: spec.name,
          numPartitions: spec.partitions,
          replicationFactor: options.replicationFactor ?? Math.min(3, brokers),
          configEntries: spec.configEntries.map((e) => ({ name: e.name, value: e.value })),
        })),
      });
    }
    const created = new Set(missing.map((spec) => spec.name));
    const compared = await compare(
      admin,
      catalogue.all.filter((s) => !created.has(s.name)),
      existing,
    );
    const topics = catalogue.all.map((spec): TopicResult =>
      created.has(spec.name)
        ? { name: spec.name, status: TopicStatus.Created, mismatches: [] }
        : (compared.find((t) => t.name === spec.name) as TopicResult),
    );
    return report(topics);
  });
}
