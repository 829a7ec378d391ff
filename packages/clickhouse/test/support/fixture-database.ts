import { ClickHouseTraceSchema, TraceQueries } from "../../src/index.js";
import type { Sink } from "../../src/index.js";
import { uniqueDatabase } from "./engine.js";
import type { SinkTarget } from "./engine.js";
import { fixtureRows } from "./fixture.js";
import { insertRows } from "./insert.js";

export interface FixtureDatabase {
  readonly db: string;
  readonly sink: Sink;
  readonly queries: TraceQueries;
}

/**
 * For the enclosing describe block: a database of `target` (named after `name`) with the schema and
 * the shared fixture rows, handed to `opened` before its tests; dropped after them.
 */
export function withFixtureDatabase(
  target: SinkTarget,
  name: string,
  opened: (fixture: FixtureDatabase) => void,
): void {
  let fixture: FixtureDatabase | undefined;
  before(async () => {
    const db = uniqueDatabase(name);
    const sink = target.makeSink(db);
    fixture = { db, sink, queries: new TraceQueries(sink) };
    await new ClickHouseTraceSchema(sink).createTables();
    await insertRows(sink, fixtureRows());
    opened(fixture);
  });

  after(async () => {
    if (fixture === undefined) return;
    await fixture.sink.command(`DROP DATABASE IF EXISTS ${fixture.db}`);
    await fixture.sink.close();
  });
}
