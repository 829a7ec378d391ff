import { httpTarget } from "./support/engine.js";
import { describeAgentQueries } from "./suites/agent-queries.suite.js";
import { describeDedup } from "./suites/dedup.suite.js";
import { describeSchema } from "./suites/schema.suite.js";
import { describeSink } from "./suites/sink.suite.js";
import { describeTraceQueries } from "./suites/trace-queries.suite.js";

const target = httpTarget();
if (target === null) {
  console.log(
    "HTTP sink suite did not run: CLICKHOUSE_URL is not set (no ClickHouse server to test against).",
  );
} else {
  describeSink(target);
  describeSchema(target);
  describeDedup(target);
  describeTraceQueries(target);
  describeAgentQueries(target);
}
