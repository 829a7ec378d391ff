import { expect } from "chai";
import { ConfigError, ErrorCode, isRetriable } from "@tracehouse/schemas";
import { InsertFailure, SinkError, classifyInsertFailure } from "../../src/index.js";
import type { Sink } from "../../src/index.js";
import { recordingLogger, uniqueDatabase } from "../support/engine.js";
import type { SinkTarget } from "../support/engine.js";

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

export function describeSink(target: SinkTarget): void {
  describe(`${target.label} sink`, () => {
    let sink: Sink;
    let db: string;

    before(async () => {
      db = uniqueDatabase("sink");
      sink = target.makeSink(db);
      await sink.command(`CREATE DATABASE IF NOT EXISTS ${db}`);
      await sink.command(
        `CREATE TABLE ${db}.items (id String, at DateTime64(6, 'UTC'), n Int64, tags Map(String, String), note Nullable(String))
         ENGINE = ReplacingMergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100`,
      );
    });

    after(async () => {
      await sink.command(`DROP DATABASE IF EXISTS ${db}`);
      await sink.close();
    });

    it("round-trips rows with epoch-microsecond times, Dates, bigints, maps and nulls", async () => {
      const result = await sink.insert("items", [
        { id: "a", at: 1736935200123456, n: 9007199254740993n, tags: { k: "v" }, note: null },
        { id: "b", at: new Date("2025-01-15T10:00:00.500Z"), n: -5, tags: {}, note: 'it\'s "quoted"' },
      ]);
      expect(result.rows).to.equal(2);
      const rows = await sink.query<{
        id: string;
        at_us: number;
        n: string;
        tags: Record<string, string>;
        note: string | null;
      }>(
        `SELECT id, toUnixTimestamp64Micro(at) AS at_us, toString(n) AS n, tags, note FROM ${db}.items ORDER BY id`,
      );
      expect(rows).to.deep.equal([
        { id: "a", at_us: 1736935200123456, n: "9007199254740993", tags: { k: "v" }, note: null },
        { id: "b", at_us: 1736935200500000, n: "-5", tags: {}, note: 'it\'s "quoted"' },
      ]);
    });

    it("binds {name:Type} parameters instead of splicing values into SQL", async () => {
      const hostile = "a' OR '1'='1";
      const none = await sink.query(`SELECT id FROM ${db}.items WHERE id = {id:String}`, { id: hostile });
      expect(none).to.deep.equal([]);
      const some = await sink.query<{ id: string }>(
        `SELECT id FROM ${db}.items WHERE id IN {ids:Array(String)} AND n < {max:Int64} ORDER BY id`,
        { ids: ["a", "b", hostile], max: 0 },
      );
      expect(some).to.deep.equal([{ id: "b" }]);
    });

    it("treats an empty insert as a no-op", async () => {
      expect(await sink.insert("items", [])).to.deep.equal({ rows: 0 });
    });

    it("drops a retried batch that carries the same dedup token", async () => {
      const batch = [{ id: "token-1", at: 1736935200000000, n: 1, tags: {}, note: null }];
      await sink.insert("items", batch, { dedupToken: "batch-42" });
      await sink.insert("items", batch, { dedupToken: "batch-42" });
      const [row] = await sink.query<{ c: number }>(
        `SELECT count() AS c FROM ${db}.items WHERE id = 'token-1'`,
      );
      expect(row?.c).to.equal(1);
    });

    it("classifies a syntax error as a non-retriable SinkError with the engine code", async () => {
      const error = await rejection(sink.query("SELEC 1"));
      expect(error).to.be.instanceOf(SinkError);
      const sinkError = error as SinkError;
      expect(sinkError.code).to.equal(ErrorCode.Sink);
      expect(sinkError.retriable).to.equal(false);
      expect(sinkError.clickhouseCode).to.equal(62);
      expect(sinkError.cause).to.be.instanceOf(Error);
      expect(isRetriable(sinkError)).to.equal(false);
    });

    it("classifies an unknown table as non-retriable (code 60)", async () => {
      const error = (await rejection(sink.query(`SELECT * FROM ${db}.no_such_table`))) as SinkError;
      expect(error).to.be.instanceOf(SinkError);
      expect(error.retriable).to.equal(false);
      expect(error.clickhouseCode).to.equal(60);
      const insertError = (await rejection(sink.insert("no_such_table", [{ id: "x" }]))) as SinkError;
      expect(insertError).to.be.instanceOf(SinkError);
      expect(insertError.retriable).to.equal(false);
      expect(insertError.clickhouseCode).to.equal(60);
    });

    it("classifies an unknown column and an unparsable value as non-retriable", async () => {
      const unknownColumn = (await rejection(sink.query(`SELECT nope FROM ${db}.items`))) as SinkError;
      expect(unknownColumn.retriable).to.equal(false);
      expect(unknownColumn.clickhouseCode).to.equal(47);
      const badValue = (await rejection(
        sink.insert("items", [{ id: "bad", at: "not a time", n: 1, tags: {}, note: null }]),
      )) as SinkError;
      expect(badValue).to.be.instanceOf(SinkError);
      expect(badValue.retriable).to.equal(false);
      expect(badValue.clickhouseCode).to.be.a("number");
      const extraField = (await rejection(
        sink.insert("items", [{ id: "extra", at: 0, n: 1, tags: {}, note: null, surprise: 1 }]),
      )) as SinkError;
      expect(extraField.retriable).to.equal(false);
    });

    it("classifies memory limit, timeout and too many parts as retriable", async () => {
      const memory = (await rejection(
        sink.query("SELECT groupArray(number) FROM numbers(10000000) SETTINGS max_memory_usage = 1000000"),
      )) as SinkError;
      expect(memory).to.be.instanceOf(SinkError);
      expect([memory.clickhouseCode, memory.retriable]).to.deep.equal([241, true]);

      const timeout = (await rejection(
        sink.query(
          "SELECT count() FROM numbers(100000000000) SETTINGS max_execution_time = 0.2, timeout_overflow_mode = 'throw'",
        ),
      )) as SinkError;
      expect([timeout.clickhouseCode, timeout.retriable]).to.deep.equal([159, true]);

      await sink.command(
        `CREATE TABLE ${db}.fragile (id UInt32) ENGINE = MergeTree ORDER BY id
         SETTINGS parts_to_throw_insert = 1, parts_to_delay_insert = 1, max_delay_to_insert = 0`,
      );
      await sink.command(`SYSTEM STOP MERGES ${db}.fragile`);
      await sink.insert("fragile", [{ id: 1 }]);
      const parts = (await rejection(sink.insert("fragile", [{ id: 2 }]))) as SinkError;
      expect([parts.clickhouseCode, parts.retriable]).to.deep.equal([252, true]);
    });

    it("classifies too many partitions for one INSERT as a row problem, too many parts as an outage", async () => {
      await sink.command(
        `CREATE TABLE ${db}.monthly (at DateTime64(6, 'UTC')) ENGINE = MergeTree PARTITION BY toYYYYMM(at) ORDER BY at`,
      );
      const rows = Array.from({ length: 150 }, (_, i) => ({ at: Date.UTC(2010, i, 1) * 1000 }));
      const spread = (await rejection(sink.insert("monthly", rows))) as SinkError;
      expect([spread.clickhouseCode, spread.retriable]).to.deep.equal([252, false]);
      expect(classifyInsertFailure(spread)).to.equal(InsertFailure.Row);
      const memory = new SinkError("memory", { retriable: true, clickhouseCode: 241 });
      expect(classifyInsertFailure(memory)).to.equal(InsertFailure.Load);
      const parts = new SinkError("parts", { retriable: true, clickhouseCode: 252 });
      expect(classifyInsertFailure(parts)).to.equal(InsertFailure.Outage);
      const refused = new SinkError("refused", { retriable: true });
      expect(classifyInsertFailure(refused)).to.equal(InsertFailure.Outage);
      const unknownTable = new SinkError("no table", { retriable: false, clickhouseCode: 60 });
      expect(classifyInsertFailure(unknownTable)).to.equal(InsertFailure.Structural);
    });

    it("readOnly refuses writes, DDL and file(); maxExecutionTimeS bounds a statement", async () => {
      await sink.command(`CREATE TABLE ${db}.ro (id UInt32) ENGINE = MergeTree ORDER BY id`);
      const readOnly = target.makeSink(db, { readOnly: true, maxExecutionTimeS: 1 });
      try {
        const [settings] = await readOnly.query<{ readonly: number; limit: number }>(
          "SELECT getSetting('readonly') AS readonly, getSetting('max_execution_time') AS limit",
        );
        expect(settings).to.deep.equal({ readonly: 1, limit: 1 });
        for (const refused of [
          () => readOnly.query("SELECT count() FROM file('/etc/passwd', 'LineAsString')"),
          () => readOnly.command(`INSERT INTO ${db}.ro VALUES (1)`),
          () => readOnly.command(`TRUNCATE TABLE ${db}.ro`),
          () => readOnly.command(`CREATE TABLE ${db}.ro2 (id UInt32) ENGINE = Memory`),
          () => readOnly.query("SELECT 1 SETTINGS readonly = 0"),
        ]) {
          const error = (await rejection(refused())) as SinkError;
          expect([error.clickhouseCode, error.retriable]).to.deep.equal([164, false]);
        }
        const slow = (await rejection(
          readOnly.query("SELECT count() FROM numbers_mt(1000000000000) WHERE sipHash64(number) = 1"),
        )) as SinkError;
        expect(slow.clickhouseCode).to.equal(159);
      } finally {
        await readOnly.close();
      }
    });

    it("retries a retriable failure with backoff, then gives up with the last error", async () => {
      const logger = recordingLogger();
      const retrying = target.makeSink(db, { maxRetries: 2, logger });
      try {
        const started = Date.now();
        const error = (await rejection(
          retrying.query(
            "SELECT groupArray(number) FROM numbers(10000000) SETTINGS max_memory_usage = 1000000",
          ),
        )) as SinkError;
        expect(error.clickhouseCode).to.equal(241);
        const retries = logger.lines.filter((line) => line.message === "clickhouse call failed, retrying");
        expect(retries.map((line) => line.fields["attempt"])).to.deep.equal([1, 2]);
        expect(Date.now() - started).to.be.lessThan(5000);
        const syntax = (await rejection(retrying.query("SELEC 1"))) as SinkError;
        expect(syntax.retriable).to.equal(false);
        expect(
          logger.lines.filter((line) => line.message === "clickhouse call failed, retrying"),
        ).to.have.length(2);
      } finally {
        await retrying.close();
      }
    });

    it("refuses table names that are not plain identifiers", async () => {
      const error = await rejection(sink.insert("items; DROP TABLE x", [{ id: "x" }]));
      expect(error).to.be.instanceOf(ConfigError);
    });

    it("waits for calls in flight on close and refuses calls afterwards", async () => {
      const other = target.makeSink(db);
      const pending = other.query<{ c: number }>("SELECT count() AS c FROM numbers(2000000)");
      const closing = other.close();
      expect((await pending)[0]?.c).to.equal(2000000);
      await closing;
      const error = (await rejection(other.query("SELECT 1"))) as { code?: string; retriable?: boolean };
      expect(error.code).to.equal(ErrorCode.Closed);
      expect(error.retriable).to.equal(false);
      await other.close();
    });
  });
}
