// The cluster fault run's network-partition step: the busy partition's leader is cut off the
// network (./partition.js) while the load goes on, then healed.
import { setTimeout as sleep } from "node:timers/promises";
import type { ClusterNode, KafkaCluster } from "@tracehouse/testkit";
import { pollUntil, within } from "../harness/index.js";
import { describeEmits, round } from "./failover.js";
import type { FailoverMeter } from "./failover.js";
import { cut, heal } from "./partition.js";
import type { Timeline } from "./timeline.js";
import type { WorkerSupervisor } from "./WorkerSupervisor.js";

/** What the step needs of the run around it. */
export interface PartitionRun {
  readonly nodes: KafkaCluster;
  readonly workers: WorkerSupervisor;
  /** The worker group's id. */
  readonly groupId: string;
  /** The topic whose partition 0's leader is cut off. */
  readonly busyTopic: string;
  readonly meter: FailoverMeter;
  readonly timeline: Timeline;
  leaderOfBusyPartition(): Promise<ClusterNode>;
  /** Resolves once every replica of every partition of the busy topic is back in sync. */
  fullyReplicated(): Promise<void>;
  /** Waits until the worker has caught up, and says how long that took. */
  catchUp(): Promise<string>;
}

/**
 * Cuts the busy partition's leader off the network for `partitionMs` (its process keeps running, its
 * connections hang), reports whether another node takes over meanwhile, heals it, and measures the
 * longest time without an acknowledgement from the cut on, apart from the other failovers.
 */
export async function networkPartition(
  run: PartitionRun,
  partitionMs: number,
): Promise<Record<string, number | null>> {
  const { nodes, workers, groupId, busyTopic, meter, timeline } = run;
  const record = (event: string): void => timeline.record(event);
  const node = await run.leaderOfBusyPartition();
  const coordinator = await within(nodes.coordinatorOf(groupId), 10_000);
  const restarts = workers.unplannedRestarts;
  const port = Number(nodes.brokers[node - 1]!.split(":")[1]);
  const mark = meter.begin("network partition");
  cut([port, port + 1]);
  record(
    `network partition: node ${node} cut off (ports ${port} and ${port + 1} dropped on loopback); ` +
      `it led ${busyTopic}[0]; node ${coordinator ?? "?"} coordinated the worker group`,
  );
  const written = workers.written();
  const elected = await pollUntil(
    async () => {
      const leader = await within(nodes.leaderOf(busyTopic, 0), 2000);
      return leader !== null && leader !== node ? leader : undefined;
    },
    { what: `another leader of ${busyTopic}[0]`, timeoutMs: partitionMs, intervalMs: 250 },
  ).catch(() => null);
  const electedS = elected === null ? null : (performance.now() - mark.at) / 1000;
  record(
    elected === null
      ? `  no other node took ${busyTopic}[0] over while node ${node} was cut off`
      : `  node ${elected} leads ${busyTopic}[0] ${electedS!.toFixed(1)} s after the cut`,
  );
  await sleep(Math.max(0, partitionMs - (performance.now() - mark.at)));
  const coordinatorWhileCut = await within(nodes.coordinatorOf(groupId), 5000);
  const rows = workers.written() - written;
  record(
    `  ${partitionMs / 1000} s cut off: the worker wrote ${rows} rows meanwhile, restarted on its own ` +
      `${workers.unplannedRestarts - restarts} times; node ${coordinatorWhileCut ?? "?"} coordinates the group`,
  );
  heal();
  const stall = await meter.end(mark, timeline.left(), false);
  record(
    `  healed; from the cut on, deliveries stalled ${stall.stallMs.toFixed(0)} ms at most; ${describeEmits(stall)}`,
  );
  await run.fullyReplicated();
  record(`  node ${node} back, every replica in sync; ${await run.catchUp()}`);
  return {
    node,
    new_leader: elected,
    new_leader_after_s: electedS === null ? null : round(electedS),
    stall_ms: Math.round(stall.stallMs),
    emit_p99_us: round(stall.emitP99Us),
    emit_p99_us_net_of_waits: round(stall.emitP99UsNet),
    group_coordinator_before: coordinator,
    group_coordinator_while_cut: coordinatorWhileCut,
    worker_rows_written_while_cut: rows,
    unplanned_worker_restarts_while_cut: workers.unplannedRestarts - restarts,
  };
}
