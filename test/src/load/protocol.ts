import type { RecordTable } from "@tracehouse/clickhouse";
import type { Compression, ProducerStats } from "@tracehouse/producer";
import type { Distribution } from "../harness/index.js";
import type { EmitWindow } from "./emit-attribution.js";

/** What the simulated-agents process is told to do (passed as one JSON argument). */
export interface AgentRunOptions {
  readonly brokers: readonly string[];
  readonly topicPrefix: string;
  readonly clientId: string;
  readonly spoolDir: string;
  /** Every accepted event id is appended here, one per line. */
  readonly idsFile: string;
  /** Traces to run; null runs until the parent sends `stop` (or `durationMs` passes). */
  readonly traces: number | null;
  readonly durationMs: number | null;
  readonly eventsPerTrace: number;
  /** Concurrent agent loops. */
  readonly agents: number;
  /** Records per second over all agents; 0 emits as fast as the producer takes them (closed loop). */
  readonly rate: number;
  /** Every n-th trace carries one sentinel record whose emit time is reported; 0 disables. */
  readonly sentinelEvery: number;
  readonly compression: Compression;
  /** How long `close()` may take to send what is queued or spooled. */
  readonly closeTimeoutMs: number;
  /** How often the agents report progress. Default: 1000 ms. */
  readonly progressEveryMs?: number;
}

/** A record whose wall-clock emit time is known, to measure emit-to-queryable latency. */
export interface Sentinel {
  readonly eventId: string;
  readonly table: RecordTable;
  /** Values of the table's sorting-key columns, to find the row with a primary-key read. */
  readonly keys: Readonly<Record<string, string>>;
  /** Epoch milliseconds (fractional) just before `emit` was called. */
  readonly emittedAtMs: number;
}

export interface AgentProgress {
  readonly accepted: number;
  readonly traces: number;
  readonly queuedRecords: number;
  readonly spooled: number;
  readonly state: string;
  /** Records Kafka has acknowledged so far. */
  readonly sent: number;
  /**
   * The emits of the report before this one, with what else the process went through meanwhile
   * (garbage collection, a fixed probe's cost); only when `progressEveryMs` is set (the cluster
   * fault run), else null.
   */
  readonly emitWindow: EmitWindow | null;
}

export interface AgentReport {
  readonly traces: number;
  /** Records the producer took (queued or spooled); their ids are in `idsFile`. */
  readonly accepted: number;
  /** Records the producer did not take (dropped or sampled out). */
  readonly notAccepted: number;
  readonly acceptedByTable: Readonly<Record<string, number>>;
  /** Caller-side cost of `emit`, microseconds. */
  readonly emitUs: Distribution;
  readonly firstEmitAtMs: number;
  readonly lastEmitAtMs: number;
  /** When `close()` returned: everything accepted was acknowledged by Kafka (or left in the spool). */
  readonly closedAtMs: number;
  readonly producer: ProducerStats;
  /** CPU time of the agents process (user + system), milliseconds. */
  readonly cpuMs: number;
}

export type ParentMessage = { readonly type: "start" } | { readonly type: "stop" };

export type AgentMessage =
  | { readonly type: "ready" }
  | { readonly type: "sentinels"; readonly sentinels: readonly Sentinel[] }
  | { readonly type: "progress"; readonly progress: AgentProgress }
  /** The agents stopped emitting (the producer is closing): the final accepted count. */
  | { readonly type: "emitted"; readonly accepted: number; readonly lastEmitAtMs: number }
  | { readonly type: "done"; readonly report: AgentReport }
  | { readonly type: "failed"; readonly error: string };
