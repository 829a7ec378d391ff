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
  return {
    topic: "t.events",
    key,
    value,
    headers,
    size: outboundSize(key, value, headers),
    partition: undefined,
  };
}

function config(dir: string, overrides: Partial<SpoolConfig> = {}): SpoolConfig {
  return {
    dir,
    slots: 0,
    maxPendingBytes: 64 * 1024 * 1024,
    maxBytes: 1024 * 1024,
    segmentBytes: 4096,
    fsync: FsyncPolicy.Never,
    fsyncIntervalMs: 1000,
    ...overrides,
  };
}

/** What the writer reported: records written and dropped (by reason). */
interface Outcome {
  written: number;
  dropped: Record<string, number>;
}

function listen(spool: Spool): Outcome {
  const outcome: Outcome = { written: 0, dropped: {} };
  spool.attach({
    written: (count) => (outcome.written += count),
    dropped: (count, reason) => (outcome.dropped[reason] = (outcome.dropped[reason] ?? 0) + count),
  });
  return outcome;
}

/** Hands records to the background writer and waits for it; returns how many it wrote. */
async function append(spool: Spool, records: Outbound[]): Promise<number> {
  const outcome = listen(spool);
  spool.enqueue(
    records,
    records.reduce((sum, r) => sum + r.size, 0),
  );
  await spool.whenWritten();
  return outcome.written;
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

  it("reads records back in append order across segments and deletes what was acknowledged", async () => {
    const spool = Spool.open(config(tmp.dir), noopLogger);
    const records = Array.from({ length: 200 }, (_, i) => record(i));
    expect(await append(spool, records.slice(0, 120))).to.equal(120);
    expect(await append(spool, records.slice(120))).to.equal(80);
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
    await spool.close(1000);
  });

  it("puts a retried batch ahead of records spooled after it", async () => {
    const spool = Spool.open(config(tmp.dir), noopLogger);
    await append(spool, [record(10), record(11)]);
    const end = spool.writeHead([record(1), record(2)]);
    expect(end).to.not.equal(null);
    await append(spool, [record(12)]);
    expect(drain(spool)).to.deep.equal([1, 2, 10, 11, 12]);
    await spool.close(1000);
  });

  it("resumes after a restart from the last acknowledged record", async () => {
    const first = Spool.open(config(tmp.dir), noopLogger);
    await append(
      first,
      Array.from({ length: 30 }, (_, i) => record(i)),
    );
    const batch = first.read(10, 1 << 20)!;
    first.ack(batch.end);
    await first.close(1000);
    const second = Spool.open(config(tmp.dir), noopLogger);
    const rest = drain(second);
    expect(rest).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 10));
    const recovered = second.read(1, 1);
    expect(recovered).to.equal(null);
    await second.close(1000);
  });

  it("skips a torn tail, counts it, and keeps reading the next segments", async () => {
    const first = Spool.open(config(tmp.dir, { segmentBytes: 1024 }), noopLogger);
    await append(
      first,
      Array.from({ length: 40 }, (_, i) => record(i)),
    );
    await first.close(1000);
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
    await second.close(1000);
  });

  describe("a damaged frame in a 5,000-record segment", () => {
    const COUNT = 5000;
    const big = { segmentBytes: 4 * 1024 * 1024, maxBytes: 8 * 1024 * 1024 };

    /** Writes COUNT records into one segment, lets `damage` change its bytes, and reads it back in a new spool. */
    async function readDamaged(damage: (bytes: Buffer, frameBytes: number) => void) {
      const first = Spool.open(config(tmp.dir, big), noopLogger);
      expect(
        await append(
          first,
          Array.from({ length: COUNT }, (_, i) => record(i)),
        ),
      ).to.equal(COUNT);
      await first.close(1000);
      const names = segments(tmp.dir);
      expect(names).to.have.length(1);
      const file = path.join(tmp.dir, names[0]!);
      const bytes = fs.readFileSync(file);
      const frameBytes = (bytes.length - 8) / COUNT;
      expect(Number.isInteger(frameBytes)).to.equal(true);
      damage(bytes, frameBytes);
      fs.writeFileSync(file, bytes);
      const second = Spool.open(config(tmp.dir, big), noopLogger);
      const seen = drain(second);
      const lost = second.takeLost();
      await second.close(1000);
      return { seen, lost };
    }

    const frameAt = (frameBytes: number, n: number): number => 8 + n * frameBytes;
    const allBut = (...missing: number[]): number[] =>
      Array.from({ length: COUNT }, (_, i) => i).filter((i) => !missing.includes(i));

    it("skips a frame whose checksum does not match by its length, keeping the 4,999 others", async () => {
      const { seen, lost } = await readDamaged((bytes, frameBytes) => {
        const at = frameAt(frameBytes, 100) + 40; // inside frame 100's payload
        bytes[at] = bytes[at]! ^ 0x01;
      });
      expect(seen).to.deep.equal(allBut(100));
      expect(lost).to.equal(1);
    });

    it("resynchronises on the next valid frame when the length itself is damaged", async () => {
      const { seen, lost } = await readDamaged((bytes, frameBytes) => {
        const at = frameAt(frameBytes, 100) + 1; // the second byte of frame 100's length
        bytes[at] = bytes[at]! ^ 0x10;
      });
      expect(seen).to.deep.equal(allBut(100));
      expect(lost).to.equal(1);
    });

    it("counts every record of a damaged run, not one per cut", async () => {
      const { seen, lost } = await readDamaged((bytes, frameBytes) => {
        // zero frames 100..104 and half of 105
        bytes.fill(0, frameAt(frameBytes, 100), frameAt(frameBytes, 105) + Math.floor(frameBytes / 2));
      });
      expect(seen).to.deep.equal(allBut(100, 101, 102, 103, 104, 105));
      expect(lost).to.equal(6);
    });
  });

  it("writes only what fits in maxBytes", async () => {
    const spool = Spool.open(config(tmp.dir, { maxBytes: 2048, segmentBytes: 2048 }), noopLogger);
    const written = await append(
      spool,
      Array.from({ length: 50 }, (_, i) => record(i)),
    );
    expect(written).to.be.greaterThan(5).and.lessThan(50);
    expect(spool.writeHead([record(99)])).to.equal(null);
    expect(drain(spool)).to.deep.equal(Array.from({ length: written }, (_, i) => i));
    await spool.close(1000);
  });

  it("survives fsync policies always and interval", async () => {
    for (const fsync of [FsyncPolicy.Always, FsyncPolicy.Interval]) {
      const spool = Spool.open(config(tmp.dir, { fsync, fsyncIntervalMs: 10 }), noopLogger);
      await append(spool, [record(1), record(2)]);
      await spool.close(1000);
      const again = Spool.open(config(tmp.dir), noopLogger);
      expect(drain(again)).to.deep.equal([1, 2]);
      await again.close(1000);
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
    await spool.close(1000);

    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 10)"]);
    await new Promise((resolve) => child.on("exit", resolve));
    fs.writeFileSync(path.join(tmp.dir, "LOCK"), String(child.pid));
    const takenOver = Spool.open(config(tmp.dir), noopLogger);
    expect(JSON.parse(fs.readFileSync(path.join(tmp.dir, "LOCK"), "utf8")).pid).to.equal(process.pid);
    await takenOver.close(1000);
    expect(fs.existsSync(path.join(tmp.dir, "LOCK"))).to.equal(false);
  });
});
