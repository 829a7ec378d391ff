// The receiver under benchmark, in a process of its own as `tracehouse receive` runs, so that
// the load generator's CPU is not counted as the receiver's (and `--cpu-prof` profiles the
// receiver alone). Started by receiver.bench.ts, which talks to it over IPC.
import { createTopicCatalogue } from "@tracehouse/schemas";
import type { createReceiver as createReceiverType } from "../src/index.js";
import { cpuMicros } from "../src/internal/StageClock.js";

// BENCH_RECEIVER_MODULE: another build of the receiver's entry point (say, a checkout of an
// earlier commit), to compare two versions in the same minutes of a busy machine
const { createReceiver } = (await import(process.env["BENCH_RECEIVER_MODULE"] || "../src/index.js")) as {
  createReceiver: typeof createReceiverType;
};

export interface ReceiverSetup {
  readonly brokers: readonly string[];
  readonly topicPrefix: string;
  readonly producers: number;
  readonly maxConcurrentRequests: number;
  readonly compression: string | null;
  readonly maxBatchBytes: number | null;
}

export type ReceiverMessage =
  | { readonly kind: "ready"; readonly url: string }
  | { readonly kind: "stats"; readonly cpuUs: number; readonly stats: ReturnType<typeof snapshot> };

function send(message: ReceiverMessage): Promise<void> {
  return new Promise((resolve) => process.send?.(message, undefined, {}, () => resolve()));
}

const setup = JSON.parse(process.env["BENCH_RECEIVER"] ?? "{}") as ReceiverSetup;
const receiver = createReceiver({
  brokers: setup.brokers,
  httpPort: 0,
  grpcPort: null,
  maxConcurrentRequests: setup.maxConcurrentRequests,
  producers: setup.producers,
  // the receiver's producer defaults unless the bench was told otherwise
  producerOptions: {
    topics: createTopicCatalogue({ prefix: setup.topicPrefix }),
    spool: false,
    clientId: "receiver-bench",
    ...(setup.compression !== null ? { compression: setup.compression as "gzip" } : {}),
    ...(setup.maxBatchBytes !== null ? { maxBatchBytes: setup.maxBatchBytes } : {}),
  },
});

function snapshot() {
  const first = receiver.producers[0]!.stats();
  return {
    ...receiver.stats(),
    batchesSent: receiver.producers.reduce((sum, producer) => sum + producer.stats().batchesSent, 0),
    sendP50Ms: first.sendLatency.p50Ms,
    sendP99Ms: first.sendLatency.p99Ms,
  };
}

process.on("message", (message: string) => {
  if (message === "stats") void send({ kind: "stats", cpuUs: cpuMicros(), stats: snapshot() });
  if (message === "stop") {
    void receiver.stop().then(() => {
      process.disconnect();
      // a normal exit, so that --cpu-prof writes its profile
      process.exitCode = 0;
    });
  }
});
await receiver.start();
await send({ kind: "ready", url: `${receiver.addresses().http}/v1/traces` });
