// Cuts one node of the local cluster off the network without stopping it: every packet to or from
// its broker and controller ports is dropped on the loopback interface, so its connections hang
// rather than being refused. That needs traffic control on loopback (`tc`, as root), which would
// slow every process on the machine; so the run does it in a network namespace of its own, with
// only a loopback interface: it starts itself again inside one (`unshare --net`).
import { execFileSync, spawn } from "node:child_process";
import { constants } from "node:os";

const INSIDE = "TRACEHOUSE_FAULTS_OWN_NETNS";
/** htb's class whose leaf queue holds nothing: what is filtered into it is dropped. */
const CUT_CLASS = "1:2";

/** True when this process already runs in the network namespace the run made for itself. */
export function inOwnNetworkNamespace(): boolean {
  return process.env[INSIDE] === "1";
}

/**
 * Runs this same command again in a new network namespace with loopback up, passing signals on,
 * and exits with its status. Needs root (or CAP_SYS_ADMIN) and `unshare`, `ip` and `tc`.
 */
export function rerunInOwnNetworkNamespace(): void {
  const script = 'ip link set lo up && exec "$@"';
  const child = spawn(
    "unshare",
    [
      "--net",
      "--",
      "sh",
      "-c",
      script,
      "sh",
      process.execPath,
      ...process.execArgv,
      ...process.argv.slice(1),
    ],
    { stdio: "inherit", env: { ...process.env, [INSIDE]: "1" } },
  );
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on("error", (error) => {
    console.error(`cannot make a network namespace (unshare --net needs root): ${error.message}`);
    process.exit(1);
  });
  child.on("close", (code, signal) =>
    process.exit(code ?? (signal === null ? 1 : 128 + constants.signals[signal])),
  );
}

function tc(...args: string[]): void {
  execFileSync("tc", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** Drops every packet to or from `ports` on loopback until {@link heal}. Only in the run's own namespace. */
export function cut(ports: readonly number[]): void {
  if (!inOwnNetworkNamespace()) throw new Error("a network cut runs only in the run's own network namespace");
  tc("qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb", "default", "1");
  tc("class", "add", "dev", "lo", "parent", "1:", "classid", "1:1", "htb", "rate", "100gbit");
  tc("class", "add", "dev", "lo", "parent", "1:", "classid", CUT_CLASS, "htb", "rate", "100gbit");
  tc("qdisc", "add", "dev", "lo", "parent", CUT_CLASS, "handle", "2:", "pfifo", "limit", "0");
  for (const port of ports) {
    for (const side of ["dport", "sport"]) {
      tc(
        ...["filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", "1", "u32"],
        ...["match", "ip", side, String(port), "0xffff", "flowid", CUT_CLASS],
      );
    }
  }
}

/** Lets every packet through again (nothing happens when nothing is cut). */
export function heal(): void {
  if (!inOwnNetworkNamespace()) return;
  try {
    tc("qdisc", "del", "dev", "lo", "root");
  } catch {
    // no cut in place
  }
}
