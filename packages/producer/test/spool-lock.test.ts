import { expect } from "chai";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createProducer } from "../src/index.js";
import { waitFor } from "./helpers/delivery.js";
import { tempSpoolDir } from "./helpers/kafka.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const child = path.join(here, "fixtures", "lock-child.ts");

interface Report {
  readonly pid: number;
  readonly locked: boolean;
  readonly error: string | null;
}

/** Runs the child as pid 1 of a new PID namespace, as an agent is in a container. */
function runAsPidOne(dir: string): Report {
  const out = execFileSync(
    "unshare",
    ["--pid", "--fork", "--mount-proc", process.execPath, "--import", "tsx", child, dir, "exit"],
    { encoding: "utf8" },
  );
  return JSON.parse(out.trim().split("\n").pop() as string) as Report;
}

/** A pid that no process has: a child that already exited. */
async function deadPid(): Promise<number> {
  const proc = spawn(process.execPath, ["-e", "0"]);
  await new Promise((resolve) => proc.on("exit", resolve));
  return proc.pid as number;
}

describe("spool lock", function () {
  this.timeout(180_000);
  let tmp: ReturnType<typeof tempSpoolDir>;
  beforeEach(() => (tmp = tempSpoolDir()));
  afterEach(() => tmp.remove());

  it("a restart with the same pid (pid 1 in a container) takes its own stale lock", () => {
    const first = runAsPidOne(tmp.dir);
    expect(first).to.include({ pid: 1, locked: true });
    expect(fs.existsSync(path.join(tmp.dir, "LOCK")), "the crashed run's lock stays").to.equal(true);
    const second = runAsPidOne(tmp.dir);
    expect(second, String(second.error)).to.include({ pid: 1, locked: true });
  });

  it("of 8 processes starting at once on a stale lock, exactly one opens the spool", async () => {
    for (let trial = 0; trial < 3; trial++) {
      const dir = path.join(tmp.dir, `trial-${trial}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, "LOCK"), String(await deadPid()));
      const procs = Array.from({ length: 8 }, () =>
        spawn(process.execPath, ["--import", "tsx", child, dir, "race"], {
          stdio: ["pipe", "pipe", "inherit"],
        }),
      );
      const outputs = procs.map((proc) => {
        const lines: string[] = [];
        let buffered = "";
        proc.stdout.on("data", (chunk: Buffer) => {
          buffered += chunk.toString();
          const parts = buffered.split("\n");
          buffered = parts.pop() as string;
          lines.push(...parts);
        });
        return lines;
      });
      const exited = procs.map((proc) => new Promise((resolve) => proc.on("exit", resolve)));
      await waitFor(() => outputs.every((lines) => lines.includes("ready")), 60_000, "8 children ready");
      for (const proc of procs) proc.stdin.write("go\n");
      await waitFor(() => outputs.every((lines) => lines.length >= 2), 30_000, "8 children to try the lock");
      const reports = outputs.map((lines) => JSON.parse(lines[1] as string) as Report);
      const winners = reports.filter((r) => r.locked);
      expect(winners, `trial ${trial}: ${JSON.stringify(reports)}`).to.have.length(1);
      for (const loser of reports.filter((r) => !r.locked))
        expect(loser.error).to.include("in use by process");
      await Promise.all(exited);
    }
  });
});

describe("the default spool directory", () => {
  it("gives each producer with the same client id its own slot, and a restarted one the slot left behind", async () => {
    const clientId = `lock-test-${process.pid}-${Date.now()}`;
    const first = createProducer({ brokers: ["127.0.0.1:1"], clientId, closeTimeoutMs: 50 });
    const second = createProducer({ brokers: ["127.0.0.1:1"], clientId, closeTimeoutMs: 50 });
    const base = path.dirname(first.spoolDir as string);
    try {
      expect(first.spoolDir).to.not.equal(second.spoolDir);
      expect(path.dirname(second.spoolDir as string)).to.equal(base);
      await first.close();
      const third = createProducer({ brokers: ["127.0.0.1:1"], clientId, closeTimeoutMs: 50 });
      expect(third.spoolDir).to.equal(first.spoolDir);
      await third.close();
    } finally {
      await second.close();
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});
