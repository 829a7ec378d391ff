import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type {
  AgentMessage,
  AgentProgress,
  AgentReport,
  AgentRunOptions,
  ParentMessage,
  Sentinel,
} from "./protocol.js";

const AGENTS_SCRIPT = fileURLToPath(new URL("./agents-process.ts", import.meta.url));

export interface AgentListeners {
  onSentinels?(sentinels: readonly Sentinel[]): void;
  onProgress?(progress: AgentProgress): void;
  /** The agents stopped emitting; `accepted` is final. */
  onEmitted?(accepted: number): void;
}

export interface AgentsHandle {
  readonly child: ChildProcess;
  /** Resolves once the producer is created and the process waits for `start()`. */
  readonly ready: Promise<void>;
  /** Resolves with the final report after the producer closed; rejects if the process fails or exits first. */
  readonly done: Promise<AgentReport>;
  start(): void;
  /** Ends a run without a trace count: no new traces, then close and report. */
  stop(): void;
  lastProgress(): AgentProgress | null;
}

/** Starts the simulated agents in a child process (through tsx), talking over IPC. */
export function spawnAgents(
  options: AgentRunOptions,
  listeners: AgentListeners = {},
  nodeArgs: readonly string[] = [],
): AgentsHandle {
  const args = [...nodeArgs, "--import", "tsx", AGENTS_SCRIPT, JSON.stringify(options)];
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: "1" },
  });
  let progress: AgentProgress | null = null;
  let settled = false;
  let resolveReady!: () => void;
  let rejectReady!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  const done = new Promise<AgentReport>((resolve, reject) => {
    child.on("message", (message: AgentMessage) => {
      switch (message.type) {
        case "ready":
          resolveReady();
          break;
        case "sentinels":
          listeners.onSentinels?.(message.sentinels);
          break;
        case "progress":
          progress = message.progress;
          listeners.onProgress?.(message.progress);
          break;
        case "emitted":
          listeners.onEmitted?.(message.accepted);
          break;
        case "done":
          settled = true;
          resolve(message.report);
          break;
        case "failed":
          settled = true;
          reject(new Error(`simulated agents failed: ${message.error}`));
          break;
      }
    });
    child.on("close", (code, signal) => {
      const error = new Error(`simulated agents exited (code ${code}, signal ${signal}) before reporting`);
      rejectReady(error);
      if (!settled) reject(error);
    });
  });
  ready.catch(() => undefined);
  done.catch(() => undefined);
  const post = (message: ParentMessage): void => {
    if (child.connected) child.send(message);
  };
  return {
    child,
    ready,
    done,
    start: () => post({ type: "start" }),
    stop: () => post({ type: "stop" }),
    lastProgress: () => progress,
  };
}
