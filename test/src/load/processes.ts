import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const TICKS_PER_SECOND = 100;
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** CPU seconds (user + system) a process has used so far, from /proc; null where unavailable. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** The local port the repo's broker scripts use (`KAFKA_PORT`, default 19092). */
export function localKafkaPort(): string {
  return process.env["KAFKA_PORT"] ?? "19092";
}

/** True when `brokers` is exactly the repo's local broker on this machine. */
export function isLocalBroker(brokers: readonly string[]): boolean {
  return brokers.length === 1 && brokers[0] === `127.0.0.1:${localKafkaPort()}`;
}

/** Pid of the repo's local broker (infra/kafka scripts), or null when it is not running here. */
export function localBrokerPid(): number | null {
  try {
    const file = `${REPO_ROOT}infra/kafka/.local/broker-${localKafkaPort()}/kafka.pid`;
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isSafeInteger(pid) && processCpuSeconds(pid) !== null ? pid : null;
  } catch {
    return null;
  }
}

/** CPU seconds the whole machine has spent busy and in total (all cores), from /proc/stat; null where unavailable. */
export function machineCpuSeconds(): { readonly busy: number; readonly total: number } | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = ticks.reduce((sum, t) => sum + t, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
  } catch {
    return null;
  }
}
