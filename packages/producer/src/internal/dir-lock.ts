import { createHash, randomBytes } from "node:crypto";
import { linkSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ErrorCode, NonRetriableError } from "@tracehouse/schemas";

const LOCK_FILE = "LOCK";
/** Takeovers of a stale lock nest at most this deep (a taker that died mid-takeover, and so on). */
const MAX_TAKEOVER_DEPTH = 4;

/**
 * Who holds a lock: a pid alone is not enough (a restarted container's agent is pid 1
 * again), so the process's start time (clock ticks since boot, from /proc) and the
 * boot id name the process instance; the nonce names this lock file.
 */
export interface LockOwner {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat; null where /proc is not available. */
  readonly start: string | null;
  readonly boot: string | null;
  readonly nonce: string;
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

/** The start time of a process, or null when it does not run (or /proc is not there). */
export function processStartTime(pid: number): string | null {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // the command name (field 2) is in parentheses and may hold spaces or parentheses
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[19] ?? null;
}

function bootId(): string | null {
  return readText("/proc/sys/kernel/random/boot_id")?.trim() ?? null;
}

function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function currentOwner(): LockOwner {
  return {
    pid: process.pid,
    start: processStartTime(process.pid),
    boot: bootId(),
    nonce: randomBytes(8).toString("hex"),
  };
}

function parseOwner(text: string | null): LockOwner | null {
  if (text === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed === "number") {
    // an older lock file holds the bare pid
    return Number.isSafeInteger(parsed) && parsed > 0
      ? { pid: parsed, start: null, boot: null, nonce: text }
      : null;
  }
  const owner = (parsed ?? {}) as Partial<LockOwner>;
  if (!Number.isSafeInteger(owner.pid) || typeof owner.nonce !== "string") return null;
  return {
    pid: owner.pid as number,
    start: typeof owner.start === "string" ? owner.start : null,
    boot: typeof owner.boot === "string" ? owner.boot : null,
    nonce: owner.nonce,
  };
}

/** True while the process instance that wrote the lock runs. */
function ownerAlive(owner: LockOwner): boolean {
  const boot = bootId();
  if (owner.boot !== null && boot !== null && owner.boot !== boot) return false;
  if (owner.start !== null) {
    const start = processStartTime(owner.pid);
    if (start !== null) return start === owner.start;
  }
  return pidRuns(owner.pid);
}

/**
 * Creates `file` holding `content`, atomically and only when it does not exist: written
 * to a private name first, then hard-linked, so no reader ever sees a half-written lock.
 */
function createExclusive(file: string, content: string): boolean {
  const tmp = `${file}.${randomBytes(8).toString("hex")}.lock-tmp`;
  writeFileSync(tmp, content);
  try {
    linkSync(tmp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    unlinkSync(tmp);
  }
}

/**
 * Removes `file` if it still holds `staleText`. Only the process that creates the
 * takeover guard named after that exact content may remove it, so two processes never
 * both remove (one of them a fresh lock: every lock's content is unique by its nonce).
 * A guard whose taker died is taken over the same way, one level deeper.
 */
function removeStale(file: string, staleText: string, me: LockOwner, depth: number): void {
  if (depth > MAX_TAKEOVER_DEPTH) return;
  const digest = createHash("sha256").update(staleText).digest("hex").slice(0, 24);
  const guard = path.join(path.dirname(file), `${LOCK_FILE}.takeover.${digest}`);
  const guardText = JSON.stringify({ ...me, nonce: randomBytes(8).toString("hex") });
  if (!createExclusive(guard, guardText)) {
    const text = readText(guard);
    const holder = parseOwner(text);
    if (text !== null && (holder === null || !ownerAlive(holder))) removeStale(guard, text, me, depth + 1);
    return;
  }
  try {
    if (readText(file) === staleText) unlinkSync(file);
  } finally {
    unlinkSync(guard);
  }
}

/**
 * Takes the directory's lock for this process instance. A lock whose owner no longer
 * runs (another pid, or the same pid with another start time or boot id) is taken over
 * atomically; one held by a live process (this one included) throws.
 * Returns the function that releases it.
 */
export function lockDirectory(dir: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  const me = currentOwner();
  const content = JSON.stringify(me);
  try {
    for (let attempt = 0; attempt < 8; attempt++) {
      if (createExclusive(file, content)) {
        return () => {
          if (parseOwner(readText(file))?.nonce !== me.nonce) return;
          try {
            unlinkSync(file);
          } catch {
            // already gone
          }
        };
      }
      const text = readText(file);
      if (text === null) continue;
      const holder = parseOwner(text);
      if (holder !== null && ownerAlive(holder)) {
        throw new NonRetriableError(`spool directory ${dir} is in use by process ${holder.pid}`, {
          code: ErrorCode.Spool,
        });
      }
      // a dead owner, or garbage: a lock file is never half-written
      removeStale(file, text, me, 0);
    }
  } catch (error) {
    if (error instanceof NonRetriableError) throw error;
    throw new NonRetriableError(`cannot lock spool directory ${dir}`, {
      code: ErrorCode.Spool,
      cause: error,
    });
  }
  throw new NonRetriableError(`cannot lock spool directory ${dir}: lost the race to take it over`, {
    code: ErrorCode.Spool,
  });
}
