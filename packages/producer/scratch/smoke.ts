import { createProducer } from "../src/index.js";
import { TraceContext } from "@tracehouse/context";
import { topicFixture, tempSpoolDir } from "../test/helpers/kafka.js";

const fx = await topicFixture();
const spool = tempSpoolDir();
const p = createProducer({ brokers: fx.brokers, topics: fx.topics, spool: { dir: spool.dir } });
const ctx = TraceContext.create({ userId: "u1" });
for (let i = 0; i < 10; i++) {
  console.log(p.emitEvent({ event_kind: "CUSTOM", name: `e${i}`, agent_name: "a", execution_id: "x" }, ctx));
}
await p.flush();
console.log(p.stats());
const got = await fx.consume(10, 20000);
console.log(got.length, got[0]);
await p.close();
await fx.cleanup();
spool.remove();
