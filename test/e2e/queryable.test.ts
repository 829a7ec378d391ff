import { TraceContext } from "@tracehouse/context";
import { createExecutionTracker } from "@tracehouse/producer";
import { newEventId, RecordType } from "@tracehouse/schemas";
import { uniqueName } from "@tracehouse/testkit";
import { expect } from "chai";
import { openPipeline, waitUntilCommitted } from "../src/harness/index.js";
import type { Pipeline, RecordingProducer } from "../src/harness/index.js";

describe("waiting until records are queryable", function () {
  this.timeout(120_000);
  let pipeline: Pipeline;
  let producer: RecordingProducer;

  before(async () => {
    pipeline = await openPipeline({ name: "queryable", partitions: 2 });
    producer = pipeline.createProducer({ lingerMs: 2 });
  });
  after(async () => {
    await pipeline?.close();
  });

  it("returns once the worker committed the records, so the views their inserts feed are written too", async () => {
    const tracker = createExecutionTracker(producer);
    for (let round = 0; round < 3; round++) {
      const context = TraceContext.create({ userId: `user-${round}` });
      const executionIds = Array.from({ length: 3000 }, () => newEventId());
      for (const executionId of executionIds) {
        tracker.writeExecutionStart({ executionId, agentName: "queryable-agent", context, input: "in" });
        tracker.writeExecutionComplete({ executionId, result: "out" });
      }
      // polls often: sees the rows in their record table as soon as they are there
      await pipeline.waitUntilQueryable(undefined, { intervalMs: 1 });
      const [state] = await pipeline.monitor.query<{ completed: number }>(
        `SELECT countIf(lifecycle = 'COMPLETED') AS completed FROM (
           SELECT argMaxMerge(lifecycle) AS lifecycle FROM ${pipeline.database}.executions_state
           WHERE trace_id = {trace:String} GROUP BY execution_id)`,
        { trace: context.traceId },
      );
      expect(Number(state?.completed), `completed executions in the view, round ${round}`).to.equal(
        executionIds.length,
      );
      expect((await pipeline.lag()).total, `uncommitted records after round ${round}`).to.equal(0);
    }
  });

  it("waiting for a group to commit names the partitions it has not committed when it times out", async () => {
    const topic = pipeline.catalogue.topicFor(RecordType.Execution);
    const idle = uniqueName("idle-group");
    const error = await waitUntilCommitted(pipeline.kafka, idle, [topic], { timeoutMs: 500 }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.match(new RegExp(`timed out .*${idle}.*${topic}\\[\\d\\] < [1-9]`));
  });
});
