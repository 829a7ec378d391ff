import fs from "node:fs";

const SPACE = 0x20;
const NEWLINE = 0x0a;

/**
 * The calling thread's scheduler accounting, from Linux's `/proc/thread-self/schedstat`: how long
 * it has waited on a run queue (runnable, but another thread had the core) and how many times it
 * was put on a core. Read before and after a call, the difference in waiting is time the call's
 * wall clock counts but the thread did not run (pre-emption by other processes or threads), and a
 * difference in the count says the thread left the core during the call at all. The kernel keeps
 * the waiting time in nanoseconds, updated whenever the thread is put back on a core, so it is
 * exact for a call the thread was pre-empted in. Reading costs one `pread` (a few microseconds),
 * made outside the stopwatch. Parsed without allocating, so that it adds no garbage to what is measured.
 */
export class ThreadSchedStat {
  readonly #fd: number;
  readonly #buffer = Buffer.alloc(96);
  /**
   * Time on a core in nanoseconds, as of the last {@link read}; the kernel brings it up to date when
   * the thread leaves a core or a timer tick comes, so it can lag by a tick while the thread runs.
   */
  onCpuNs = 0;
  /** Run-queue wait in nanoseconds, as of the last {@link read}. */
  waitNs = 0;
  /** Times the thread was put on a core, as of the last {@link read}. */
  switches = 0;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** Null where the file is missing or empty (not Linux, or the kernel keeps no scheduler statistics). */
  static open(): ThreadSchedStat | null {
    let fd: number;
    try {
      fd = fs.openSync("/proc/thread-self/schedstat", "r");
    } catch {
      return null;
    }
    const stat = new ThreadSchedStat(fd);
    try {
      stat.read();
    } catch {
      fs.closeSync(fd);
      return null;
    }
    if (stat.switches === 0) {
      fs.closeSync(fd);
      return null;
    }
    return stat;
  }

  /** Refreshes {@link waitNs} and {@link switches}: the file holds "<on-cpu ns> <wait ns> <count>\n". */
  read(): void {
    const buffer = this.#buffer;
    const length = fs.readSync(this.#fd, buffer, 0, buffer.length, 0);
    let field = 0;
    let value = 0;
    for (let i = 0; i < length; i++) {
      const byte = buffer[i]!;
      if (byte === SPACE || byte === NEWLINE) {
        if (field === 0) this.onCpuNs = value;
        else if (field === 1) this.waitNs = value;
        else if (field === 2) this.switches = value;
        field++;
        value = 0;
      } else {
        value = value * 10 + (byte - 0x30);
      }
    }
  }

  close(): void {
    fs.closeSync(this.#fd);
  }
}
