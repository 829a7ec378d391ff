import type { Kafka } from "kafkajs";
import { consumerLag, pollUntil } from "../harness/index.js";
import type { ConsumerLag } from "../harness/index.js";

export interface CatchUp {
  /** Records that were uncommitted when the wait began. */
  readonly backlog: number;
  /** The group's lag when it had caught up (records written since the wait began, not yet committed). */
  readonly lag: number;
  readonly waitedMs: number;
}

/**
 * Waits until the worker group has committed every record that was in the topics when the wait
 * began (per partition: committed offset ≥ that moment's log-end offset). This does not depend on
 * the load's rate (a lag threshold does: at a low rate the steady lag of one flush interval can
 * stay above it); a worker that does not get there within `timeoutMs` fails the run with how far
 * it got.
 */
export async function waitForCatchUp(
  kafka: Kafka,
  groupId: string,
  topics: readonly string[],
  timeoutMs: number,
  /** Told the backlog once the log-end offsets to wait for are known. */
  onBacklog?: (records: number) => void,
): Promise<CatchUp> {
  const began = performance.now();
  const deadline = began + timeoutMs;
  let failure = "";
  const sample = async (): Promise<ConsumerLag | undefined> =>
    consumerLag(kafka, groupId, topics).catch((error: unknown) => {
      failure = error instanceof Error ? error.message : String(error);
      return undefined;
    });
  const target = await pollUntil(sample, {
    what: "the log-end offsets to wait for (the brokers did not answer)",
    timeoutMs,
    intervalMs: 250,
    describe: () => failure,
  });
  onBacklog?.(target.total);
  const goal = new Map(target.partitions.map((p) => [`${p.topic}:${p.partition}`, p]));
  let last: ConsumerLag = target;
  const behind = (lag: ConsumerLag): { partitions: number; records: number } => {
    let partitions = 0;
    let records = 0;
    for (const p of lag.partitions) {
      const start = goal.get(`${p.topic}:${p.partition}`);
      if (start === undefined) continue;
      // capped at the partition's backlog: an offset the broker did not report reads as the log start
      const missing = Math.min(start.high - p.committed, start.lag);
      if (missing > 0) {
        partitions++;
        records += missing;
      }
    }
    return { partitions, records };
  };
  await pollUntil(
    async () => {
      const now = await sample();
      if (now === undefined) return undefined;
      last = now;
      return behind(now).partitions === 0 ? true : undefined;
    },
    {
      what: `the worker group ${groupId} to commit the ${target.total} records that were uncommitted when the wait began`,
      timeoutMs: Math.round(Math.max(1000, deadline - performance.now())),
      intervalMs: 250,
      describe: () => {
        const { partitions, records } = behind(last);
        return `${records} of them still uncommitted on ${partitions} partitions, lag ${last.total}${failure === "" ? "" : `; last broker error: ${failure}`}`;
      },
    },
  );
  return { backlog: target.total, lag: last.total, waitedMs: performance.now() - began };
}
