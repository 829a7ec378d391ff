// A "newer agent": the real producer, on a schemas package that ships one more execution version
// (see newer-schemas.ts). Args: <generated schemas URL> <brokers> <topic prefix> <records> <field>.
// Prints one JSON line: the execution schema version and fingerprint it wrote with, and the event ids.
import { register } from "node:module";

const [generatedUrl, brokers, prefix, count, field] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
register(new URL("./schemas-loader.mjs", import.meta.url), { data: { generatedUrl } });

const { createProducer } = await import("@tracehouse/producer");
const { createTopicCatalogue, currentSchemaVersion, newEventId, schemaFingerprintOf } =
  await import("@tracehouse/schemas");

const producer = createProducer({
  brokers: brokers.split(","),
  topics: createTopicCatalogue({ prefix }),
  spool: false,
});
const eventIds: string[] = [];
for (let i = 0; i < Number(count); i++) {
  const eventId = newEventId();
  eventIds.push(eventId);
  producer.emitExecution({
    event_id: eventId,
    execution_id: `newer-${i}`,
    agent_name: "newer-agent",
    lifecycle: "COMPLETED",
    status: "completed",
    duration_ms: 10 + i,
    [field]: 0.5 * i,
  } as never);
}
await producer.close();
process.stdout.write(
  JSON.stringify({
    version: currentSchemaVersion("execution"),
    fingerprint: schemaFingerprintOf("execution"),
    sent: producer.stats().sent,
    eventIds,
  }) + "\n",
);
