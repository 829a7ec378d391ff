import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { DEFAULT_INDEX_GRANULARITY_BYTES, EmbeddedSink } from "../src/index.js";
import { testDataDir, uniqueDatabase } from "./support/engine.js";

describe("embedded engine granularity", () => {
  it("writes parts in granules of at most indexGranularityBytes (default 256 KiB), not ClickHouse's 10 MiB", async () => {
    const database = uniqueDatabase("granularity");
    const sink = new EmbeddedSink({ dataDir: testDataDir(), database });
    try {
      await sink.command(`CREATE DATABASE IF NOT EXISTS ${database}`);
      const [setting] = await sink.query<{ value: string }>(
        "SELECT value FROM system.merge_tree_settings WHERE name = 'index_granularity_bytes'",
      );
      expect(Number(setting?.value)).to.equal(DEFAULT_INDEX_GRANULARITY_BYTES);
      // 4000 rows of 1 KiB: 4 MiB, one granule under 10 MiB, at least 15 of 256 KiB.
      await sink.command(
        `CREATE TABLE ${database}.wide (id UInt64, payload String) ENGINE = MergeTree ORDER BY id`,
      );
      await sink.command(`INSERT INTO ${database}.wide SELECT number, repeat('x', 1024) FROM numbers(4000)`);
      const [part] = await sink.query<{ marks: number }>(
        `SELECT sum(marks) AS marks FROM system.parts WHERE database = '${database}' AND table = 'wide' AND active`,
      );
      expect(Number(part?.marks)).to.be.at.least(15);
    } finally {
      await sink.command(`DROP DATABASE IF EXISTS ${database}`);
      await sink.close();
    }
  });

  it("applies a given indexGranularityBytes to the engine the sink starts", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "tracehouse-granularity-"));
    try {
      const fixture = path.join(import.meta.dirname, "fixtures", "engine-granularity.ts");
      const run = (bytes: number): Promise<{ stdout: string }> =>
        promisify(execFile)(process.execPath, ["--import", "tsx", fixture, dataDir, String(bytes)]);
      expect(JSON.parse((await run(65536)).stdout)).to.deep.equal({ value: 65536 });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("refuses a granule below ClickHouse's minimum of 1024 bytes", () => {
    expect(() => new EmbeddedSink({ dataDir: testDataDir(), indexGranularityBytes: 512 })).to.throw(
      /indexGranularityBytes/,
    );
  });
});
