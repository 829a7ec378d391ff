// Wait until a Kafka client can create a topic, send to it idempotently and reach the group coordinator.
// Usage: node wait-ready.mjs [brokers] [--pid <broker pid>]
// Env: KAFKA_BROKERS (default 127.0.0.1:19092), KAFKA_READY_TIMEOUT seconds (default 60),
// KAFKA_READY_REPLICATION replicas of the probe topic (default 1; the three-node cluster asks for 3).
const args = process.argv.slice(2);
const pidIdx = args.indexOf("--pid");
const brokerPid = pidIdx >= 0 ? Number(args.splice(pidIdx, 2)[1]) : undefined;
const brokers = (args[0] ?? process.env.KAFKA_BROKERS ?? "127.0.0.1:19092").split(",");
const timeoutS = Number(process.env.KAFKA_READY_TIMEOUT ?? 60);
const replicationFactor = Number(process.env.KAFKA_READY_REPLICATION ?? 1);

let kafkajs;
try {
  kafkajs = await import("kafkajs");
} catch {
  console.error("wait-ready: cannot import kafkajs; run `npm install` at the repository root");
  process.exit(2);
}
const { Kafka, logLevel } = kafkajs.default ?? kafkajs;

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
};

const topic = `__tracehouse_ready_${process.pid}`;
const kafka = new Kafka({
  clientId: "tracehouse-wait-ready",
  brokers,
  logLevel: logLevel.NOTHING,
  connectionTimeout: 1000,
  requestTimeout: 5000,
  retry: { retries: 0 },
});

const started = Date.now();
const deadline = started + timeoutS * 1000;
let lastError = "no attempt made";

while (Date.now() < deadline) {
  if (brokerPid && !alive(brokerPid)) {
    console.error(`wait-ready: broker process ${brokerPid} exited before becoming ready`);
    process.exit(1);
  }
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor }],
      waitForLeaders: true,
      timeout: 5000,
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 3 } });
    try {
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ value: "ready" }] });
    } finally {
      await producer.disconnect().catch(() => {});
    }
    await admin.describeGroups([`__tracehouse_ready`]);
    await admin.deleteTopics({ topics: [topic], timeout: 5000 });
    console.log(`kafka ready at ${brokers.join(",")} after ${((Date.now() - started) / 1000).toFixed(1)}s`);
    process.exit(0);
  } catch (e) {
    lastError = e?.message ?? String(e);
  } finally {
    await admin.disconnect().catch(() => {});
  }
  await new Promise((r) => setTimeout(r, 250));
}

console.error(
  `wait-ready: kafka at ${brokers.join(",")} not ready after ${timeoutS}s (last error: ${lastError})`,
);
process.exit(1);
