import { ConfigError } from "./errors.js";
import { RECORD_TYPES, RecordType } from "./record-type.js";
import type { Envelope } from "./records.js";

export const CleanupPolicy = { Delete: "delete", Compact: "compact" } as const;
export type CleanupPolicy = (typeof CleanupPolicy)[keyof typeof CleanupPolicy];

/** Everything needed to create a topic. Messages are keyed by trace id. */
export interface TopicSpec {
  readonly name: string;
  /** Record family carried by the topic; null for the dead-letter and schemas topics. */
  readonly recordType: RecordType | null;
  readonly partitions: number;
  /** -1 keeps messages forever (a compacted topic keeps the last message of every key whatever its age). */
  readonly retentionMs: number;
  readonly cleanupPolicy: CleanupPolicy;
  /** The same settings as topic configuration entries, ready for an admin client. */
  readonly configEntries: readonly { readonly name: string; readonly value: string }[];
}

/** `dlq`, `schemas` or a record type: the topics of the catalogue. */
export type TopicFamily = RecordType | "dlq" | "schemas";

export interface TopicOverrides {
  readonly partitions?: number;
  readonly retentionMs?: number;
}

export interface TopicCatalogueOptions {
  /** Prepended to every topic name. Default `"tracehouse."`. */
  readonly prefix?: string;
  /** Per-family partitions and retention, replacing the recommended ones. Default none. */
  readonly overrides?: Readonly<Partial<Record<TopicFamily, TopicOverrides>>>;
}

export interface TopicCatalogue {
  readonly prefix: string;
  topicFor(type: RecordType): string;
  readonly dlq: string;
  /**
   * The compacted topic of writer schemas: key the fingerprint (hex), value the schema JSON.
   * Producers publish each schema they write with before its first record; readers resolve
   * fingerprints they do not know from it.
   */
  readonly schemas: string;
  /** One spec per record type, then the dead-letter topic, then the schemas topic. */
  readonly all: readonly TopicSpec[];
  /** The record type carried by a topic of this catalogue; null for the DLQ and unknown names. */
  recordTypeOfTopic(name: string): RecordType | null;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Recommended layout: the high-volume families get more partitions and shorter retention. */
export const DEFAULT_TOPICS: {
  readonly [F in TopicFamily]: { readonly suffix: string } & Required<TopicOverrides>;
} = {
  [RecordType.Execution]: { suffix: "executions", partitions: 12, retentionMs: 30 * DAY_MS },
  [RecordType.Event]: { suffix: "events", partitions: 24, retentionMs: 7 * DAY_MS },
  [RecordType.Metrics]: { suffix: "metrics", partitions: 12, retentionMs: 30 * DAY_MS },
  [RecordType.Correlation]: { suffix: "correlations", partitions: 12, retentionMs: 30 * DAY_MS },
  [RecordType.Error]: { suffix: "errors", partitions: 6, retentionMs: 30 * DAY_MS },
  [RecordType.Span]: { suffix: "spans", partitions: 24, retentionMs: 7 * DAY_MS },
  dlq: { suffix: "dlq", partitions: 6, retentionMs: 30 * DAY_MS },
  schemas: { suffix: "schemas", partitions: 1, retentionMs: -1 },
};

/** The families whose topics are compacted rather than deleted by age. */
const COMPACTED: ReadonlySet<TopicFamily> = new Set(["schemas"]);

const DEFAULT_PREFIX = "tracehouse.";
const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;
const MAX_TOPIC_NAME = 249;

interface ResolvedFamily {
  readonly family: TopicFamily;
  readonly name: string;
  readonly partitions: number;
  readonly retentionMs: number;
}

interface ResolvedCatalogueConfig {
  readonly prefix: string;
  readonly families: readonly ResolvedFamily[];
}

function resolveCatalogueConfig(options: TopicCatalogueOptions): ResolvedCatalogueConfig {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const overrides = options.overrides ?? {};
  for (const key of Object.keys(overrides)) {
    if (!Object.hasOwn(DEFAULT_TOPICS, key)) throw new ConfigError(`overrides.${key}: not a topic family`);
  }
  const names: TopicFamily[] = [...RECORD_TYPES, "dlq", "schemas"];
  const families = names.map((family) => {
    const name = `${prefix}${DEFAULT_TOPICS[family].suffix}`;
    if (!TOPIC_NAME.test(name) || name.length > MAX_TOPIC_NAME) {
      throw new ConfigError(
        `prefix ${JSON.stringify(prefix)} makes the invalid topic name ${JSON.stringify(name)}`,
      );
    }
    const partitions = overrides[family]?.partitions ?? DEFAULT_TOPICS[family].partitions;
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new ConfigError(`overrides.${family}.partitions must be a positive integer, got ${partitions}`);
    }
    const retentionMs = overrides[family]?.retentionMs ?? DEFAULT_TOPICS[family].retentionMs;
    if (!Number.isInteger(retentionMs) || (retentionMs < 1 && retentionMs !== -1)) {
      throw new ConfigError(
        `overrides.${family}.retentionMs must be a positive integer or -1, got ${retentionMs}`,
      );
    }
    return { family, name, partitions, retentionMs };
  });
  return { prefix, families };
}

/** The topic names and settings of one deployment; the one place topic names are made. */
export function createTopicCatalogue(options: TopicCatalogueOptions = {}): TopicCatalogue {
  const { prefix, families } = resolveCatalogueConfig(options);
  const all: TopicSpec[] = families.map(({ family, name, partitions, retentionMs }) => {
    const cleanupPolicy = COMPACTED.has(family) ? CleanupPolicy.Compact : CleanupPolicy.Delete;
    return Object.freeze({
      name,
      recordType: family === "dlq" || family === "schemas" ? null : family,
      partitions,
      retentionMs,
      cleanupPolicy,
      configEntries: Object.freeze([
        { name: "cleanup.policy", value: cleanupPolicy },
        { name: "retention.ms", value: String(retentionMs) },
      ]),
    });
  });
  const byType = new Map<RecordType, string>();
  const byName = new Map<string, RecordType>();
  for (const spec of all) {
    if (spec.recordType === null) continue;
    byType.set(spec.recordType, spec.name);
    byName.set(spec.name, spec.recordType);
  }
  const nameOf = (family: TopicFamily): string => families.find((f) => f.family === family)!.name;
  return Object.freeze({
    prefix,
    dlq: nameOf("dlq"),
    schemas: nameOf("schemas"),
    all: Object.freeze(all),
    topicFor(type: RecordType): string {
      const name = byType.get(type);
      if (name === undefined) throw new ConfigError(`unknown record type ${String(type)}`);
      return name;
    },
    recordTypeOfTopic(name: string): RecordType | null {
      return byName.get(name) ?? null;
    },
  });
}

/** The Kafka message key of a record: its trace id, so a trace stays in one partition, in order. */
export function messageKeyOf(record: Pick<Envelope, "trace_id">): string {
  return record.trace_id;
}
