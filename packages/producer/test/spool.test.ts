import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { ErrorCode, isTracehouseError, noopLogger } from "@tracehouse/schemas";
import { FsyncPolicy } from "../src/index.js";
import type { SpoolConfig } from "../src/index.js";
import type { Outbound } from "../src/internal/outbound.js";
import { outboundSize } from "../src/internal/outbound.js";
import { Spool } from "../src/internal/Spool.js";
import { tempSpoolDir } from "./helpers/kafka.js";

function record(i: number, valueBytes = 64): Outbound {
  const key = i.toString(16).padStart(32, "0");
  const value = Buffer.alloc(valueBytes, i % 251);
  value.writeUInt32BE(i, 0);
  const headers = {
    "content-type": "application/vnd.tracehouse.event+avro",
    traceparent: `00-${key}-0000000000000001-01`,
  };
  return { topic: "t.events", key, value, headers, size: outboundSize(key, value, headers) };
}

function config(dir: string, overrides: Partial<SpoolConfig> = {}): SpoolConfig {
  return {
    dir,
    maxBytes: 1024 * 1024,
    segmentBytes: 4096,
    fsync: FsyncPolicy.Never,
    fsyncIntervalMs: 1000,
    ...overrides,
  };
}

/** Reads and acknowledges everything, returning the record numbers in order. */
function drain(spool: Spool): number[] {
  const seen: number[] = [];
  for (let batch = spool.read(7, 1 << 20); batch !== null; batch = spool.read(7, 1 << 20)) {
    for (const r of batch.records) seen.push(r.value.readUInt32BE(0));
    spool.ack(batch.end);
  }
  return seen;
}

function segments(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith(".seg"))
    .sort();
}

describe("spool", () => {
  let tmp: ReturnType<typeof tempSpoolDir>;
  beforeEach(() => (tmp = tempSpoolDir()));
  afterEach(() => tmp.remove());

  it("reads records back in append order across segments and deletes what was acknowledged", () => {
    const spool = Spool.open(config(tmp.dir), noopLogger);
    const records = Array.from({ length: 200 }, (_, i) => record(i));
    expect(spool.append(records.slice(0, 120))).to.equal(120);
    expect(spool.append(records.slice(120))).to.equal(80);
    expect(segments(tmp.dir).length).to.be.greaterThan(3);
    const batch = spool.read(5, 1 << 20)!;
    expect(batch.records.map((r) => r.key)).to.deep.equal(records.slice(0, 5).map((r) => r.key));
    expect(batch.records[0]!.headers).to.deep.equal(records[0]!.headers);
    expect(batch.records[0]!.value.equals(records[0]!.value)).to.equal(true);
    expect(batch.records[0]!.size).to.equal(records[0]!.size);
    spool.ack(batch.end);
    expect(drain(spool)).to.deep.equal(records.slice(5).map((_, i) => i + 5));
    expect(spool.isEmpty).to.equal(true);
    expect(segments(tmp.dir)).to.deep.equal([]);
    spool.close();
  });

  it("puts a retried batch ahead of records spooled after it", () => {
    const spool = Spool.open(config(tmp.dir), noopLogger);
    spool.append([record(10), record(11)]);
    const end = spool.writeHead([record(1), record(2)]);
    expect(end).to.not.equal(null);
    spool.append([record(12)]);
    expect(drain(spool)).to.deep.equal([1, 2, 10, 11, 12]);
    spool.close();
  });

  it("resumes after a restart from the last acknowledged record", () => {
    const first = Spool.open(config(tmp.dir), noopLogger);
    first.append(Array.from({ length: 30 }, (_, i) => record(i)));
    const batch = first.read(10, 1 << 20)!;
    first.ack(batch.end);
    first.close();
    const second = Spool.open(config(tmp.dir), noopLogger);
    const rest = drain(second);
    expect(rest).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 10));
    const recovered = second.read(1, 1);
    expect(recovered).to.equal(null);
    second.close();
  });

  it("skips a torn tail, counts it, and keeps reading the next segments", () => {
    const first = Spool.open(config(tmp.dir, { segmentBytes: 1024 }), noopLogger);
    first.append(Array.from({ length: 40 }, (_, i) => record(i)));
    first.close();
    const names = segments(tmp.dir);
    expect(names.length).to.be.greaterThan(2);
    // cut the first segment in the middle of its last frame
    const torn = path.join(tmp.dir, names[0]!);
    const size = fs.statSync(torn).size;
    fs.truncateSync(torn, size - 20);
    const second = Spool.open(config(tmp.dir, { segmentBytes: 1024 }), noopLogger);
    const seen = drain(second);
    expect(second.takeLost()).to.equal(1);
    const lost = Array.from({ length: 40 }, (_, i) => i).filter((i) => !seen.includes(i));
    expect(lost).to.have.length(1);
    expect(seen).to.deep.equal([...seen].sort((a, b) => a - b));
    expect(seen.length).to.equal(39);
    second.close();
  });

  it("stops at a frame whose checksum does not match", () => {
    const first = Spool.open(config(tmp.dir), noopLogger);
    first.append(Array.from({ length: 10 }, (_, i) => record(i)));
    first.close();
    const file = path.join(tmp.dir, segments(tmp.dir)[0]!);
    const bytes = fs.readFileSync(file);
    const frameBytes = (bytes.length - 8) / 10;
    const at = 8 + 5 * frameBytes + 30; // inside the sixth record's payload
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
    fs.writeFileSync(file, bytes);
    const second = Spool.open(config(tmp.dir), noopLogger);
    expect(drain(second)).to.deep.equal([0, 1, 2, 3, 4]);
    expect(second.takeLost()).to.equal(1);
    second.close();
  });

  it("writes only what fits in maxBytes", () => {
    const spool = Spool.open(config(tmp.dir, { maxBytes: 2048, segmentBytes: 2048 }), noopLogger);
    const written = spool.append(Array.from({ length: 50 }, (_, i) => record(i)));
    expect(written).to.be.greaterThan(5).and.lessThan(50);
    expect(spool.writeHead([record(99)])).to.equal(null);
    expect(drain(spool)).to.deep.equal(Array.from({ length: written }, (_, i) => i));
    spool.close();
  });

  it("survives fsync policies always and interval", () => {
    for (const fsync of [FsyncPolicy.Always, FsyncPolicy.Interval]) {
      const spool = Spool.open(config(tmp.dir, { fsync, fsyncIntervalMs: 10 }), noopLogger);
      spool.append([record(1), record(2)]);
      spool.close();
      const again = Spool.open(config(tmp.dir), noopLogger);
      expect(drain(again)).to.deep.equal([1, 2]);
      again.close();
    }
  });

  it("is locked by one live producer; a dead holder's lock is taken over", async () => {
    const spool = Spool.open(config(tmp.dir), noopLogger);
    let error: unknown;
    try {
      Spool.open(config(tmp.dir), noopLogger);
    } catch (e) {
      error = e;
    }
    expect(isTracehouseError(error) && error.code === ErrorCode.Spool).to.equal(true);
    expect(String(error)).to.include(`in use by process ${process.pid}`);
    spool.close();

    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 10)"]);
    await new Promise((resolve) => child.on("exit", resolve));
    fs.writeFileSync(path.join(tmp.dir, "LOCK"), String(child.pid));
    const takenOver = Spool.open(config(tmp.dir), noopLogger);
    expect(fs.readFileSync(path.join(tmp.dir, "LOCK"), "utf8")).to.equal(String(process.pid));
    takenOver.close();
    expect(fs.existsSync(path.join(tmp.dir, "LOCK"))).to.equal(false);
  });
});
