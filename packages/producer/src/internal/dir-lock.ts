import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ErrorCode, NonRetriableError } from "@tracehouse/schemas";

const LOCK_FILE = "LOCK";

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the directory's lock file for this process. A lock left by a process that no
 * longer runs is taken over; one held by a live process (this one included) throws.
 * Returns the function that releases it.
 */
export function lockDirectory(dir: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: "wx" });
      return () => {
        try {
          if (readFileSync(file, "utf8") === String(process.pid)) unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new NonRetriableError(`cannot lock spool directory ${dir}`, {
          code: ErrorCode.Spool,
          cause: error,
        });
      }
    }
    let holder = Number.NaN;
    try {
      holder = Number.parseInt(readFileSync(file, "utf8"), 10);
    } catch {
      // removed meanwhile: try again
    }
    if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
      throw new NonRetriableError(`spool directory ${dir} is in use by process ${holder}`, {
        code: ErrorCode.Spool,
      });
    }
    try {
      unlinkSync(file);
    } catch {
      // another process took it over first; the next attempt tells
    }
  }
  throw new NonRetriableError(`cannot lock spool directory ${dir}`, { code: ErrorCode.Spool });
}
