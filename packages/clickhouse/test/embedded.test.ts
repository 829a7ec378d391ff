import { embeddedTarget } from "./support/engine.js";
import { describeAgentQueries } from "./suites/agent-queries.suite.js";
import { describeDedup } from "./suites/dedup.suite.js";
import { describeSchema } from "./suites/schema.suite.js";
import { describeSink } from "./suites/sink.suite.js";
import { describeTraceQueries } from "./suites/trace-queries.suite.js";

describeSink(embeddedTarget);
describeSchema(embeddedTarget);
describeDedup(embeddedTarget);
describeTraceQueries(embeddedTarget);
describeAgentQueries(embeddedTarget);
