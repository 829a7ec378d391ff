/** What a worker process is told (one JSON argument). */
export interface WorkerRunOptions {
  readonly brokers: readonly string[];
  readonly topicPrefix: string;
  readonly groupId: string;
  /** The embedded engine's data directory; only one process may hold it at a time. */
  readonly dataDir: string;
  readonly database: string;
  readonly flushIntervalMs: number;
  /** The process runs at this niceness (every thread of it), or its parent's if higher; default 0. */
  readonly nice?: number;
}

export interface WorkerStatusReport {
  /** Rows this process has inserted. */
  readonly written: number;
  /** An insert is failing and being retried. */
  readonly retrying: boolean;
  readonly state: string;
  /** The injected sink fault is on. */
  readonly failing: boolean;
  readonly failedInserts: number;
}

export type WorkerMessage =
  /** Joined the group with partitions assigned. */
  | { readonly type: "ready" }
  | { readonly type: "status"; readonly status: WorkerStatusReport }
  /** Acknowledges a SIGUSR2: the sink fault is now on or off. */
  | { readonly type: "fault"; readonly failing: boolean }
  | { readonly type: "failed"; readonly error: string };
