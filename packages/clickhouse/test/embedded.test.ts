import { embeddedTarget } from "./support/engine.js";
import { describeDedup } from "./suites/dedup.suite.js";
import { describeQueries } from "./suites/queries.suite.js";
import { describeSchema } from "./suites/schema.suite.js";
import { describeSink } from "./suites/sink.suite.js";

describeSink(embeddedTarget);
describeSchema(embeddedTarget);
describeDedup(embeddedTarget);
describeQueries(embeddedTarget);
