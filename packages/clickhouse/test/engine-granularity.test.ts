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

  it("merges vertically (one column at a time) whatever the parts' size, and a merge still collapses rows", async () => {
    const database = uniqueDatabase("vertical");
    const sink = new EmbeddedSink({ dataDir: testDataDir(), database });
    try {
      const settings = await sink.query<{ name: string; value: string }>(
        "SELECT name, value FROM system.merge_tree_settings WHERE name IN " +
          "('vertical_merge_algorithm_min_rows_to_activate', 'vertical_merge_algorithm_min_columns_to_activate') ORDER BY name",
      );
      expect(settings).to.deep.equal([
        { name: "vertical_merge_algorithm_min_columns_to_activate", value: "1" },
        { name: "vertical_merge_algorithm_min_rows_to_activate", value: "1" },
      ]);
      await sink.command(`CREATE DATABASE IF NOT EXISTS ${database}`);
      await sink.command(
        `CREATE TABLE ${database}.replacing (id UInt64, name String, payload String) ENGINE = ReplacingMergeTree ORDER BY id`,
      );
      for (const version of ["a", "b"])
        await sink.command(
          `INSERT INTO ${database}.replacing SELECT number, '${version}', repeat('x', 100) FROM numbers(1000)`,
        );
      await sink.command(`OPTIMIZE TABLE ${database}.replacing FINAL`);
      const [merged] = await sink.query<{ rows: number; parts: number }>(
        `SELECT sum(rows) AS rows, count() AS parts FROM system.parts WHERE database = '${database}' AND table = 'replacing' AND active`,
      );
      expect({ rows: Number(merged?.rows), parts: Number(merged?.parts) }).to.deep.equal({
        rows: 1000,
        parts: 1,
      });
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
