import { expect } from "chai";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTopicCatalogue } from "@tracehouse/schemas";
import { testKafka, uniqueName, useKafka } from "@tracehouse/testkit";
import { waitFor } from "./helpers/delivery.js";
import { tempSpoolDir } from "./helpers/kafka.js";

const here = path.dirname(fileURLToPath(import.meta.url));
/** Debian's libfaketime (package `faketime`): steps the wall clock of one process, not its monotonic clock. */
const LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

describe("a wall-clock step during an outage", function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempSpoolDir>;
  before(function () {
    if (!fs.existsSync(LIBFAKETIME)) throw new Error(`${LIBFAKETIME} is missing: apt-get install faketime`);
    tmp = tempSpoolDir();
  });
  after(() => tmp.remove());

  it("does not stall delivery: retry times run on the monotonic clock", async () => {
    const { brokers } = await useKafka();
    const topics = createTopicCatalogue({ prefix: `${uniqueName("clock")}.` });
    const clockFile = path.join(tmp.dir, "faketime");
    fs.writeFileSync(clockFile, "+0\n");
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        path.join(here, "fixtures", "clock-child.ts"),
        brokers.join(","),
        topics.prefix,
        path.join(tmp.dir, "spool"),
      ],
      {
        stdio: ["pipe", "pipe", "inherit"],
        env: {
          ...process.env,
          LD_PRELOAD: LIBFAKETIME,
          FAKETIME_TIMESTAMP_FILE: clockFile,
          FAKETIME_NO_CACHE: "1",
          FAKETIME_DONT_FAKE_MONOTONIC: "1",
        },
      },
    );
    const lines: Record<string, number>[] = [];
    let buffered = "";
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split("\n");
      buffered = parts.pop() as string;
      for (const part of parts) lines.push(JSON.parse(part) as Record<string, number>);
    });
    const kafka = await testKafka();
    const admin = kafka.admin();
    await admin.connect();
    const names = topics.all.map((t) => t.name);
    try {
      await waitFor(() => lines.length >= 1, 60_000, "the producer to be degraded (topics missing)");
      fs.writeFileSync(clockFile, "-1h\n");
      await admin.createTopics({
        waitForLeaders: true,
        topics: names.map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })),
      });
      child.stdin.write("go\n");
      await waitFor(() => lines.length >= 3, 30_000, "delivery after the clock stepped back an hour");
      const [degraded, go, delivered] = lines as [
        Record<string, number>,
        Record<string, number>,
        Record<string, number>,
      ];
      // the step reached the child's wall clock
      expect(degraded.wallMs! - go.wallMs!).to.be.greaterThan(3_500_000);
      expect(delivered.ms, "ms from the topics existing to delivery").to.be.lessThan(15_000);
    } finally {
      child.kill("SIGKILL");
      await admin.deleteTopics({ topics: names }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
