import fs from "node:fs";
import type { Logger } from "@tracehouse/schemas";
import type { SpoolConfig } from "../config.js";
import { FsyncPolicy } from "../config.js";
import { DropReason } from "../stats.js";
import type { Outbound } from "./outbound.js";
import {
  createSegmentFile,
  fdatasync,
  FIRST_ID,
  ftruncate,
  syncDirectory,
  writeAllAtAsync,
} from "./segment-files.js";
import type { Segment } from "./segment-files.js";
import { encodeFrames, frameLength, SEGMENT_MAGIC } from "./spool-format.js";

/** Told what became of records handed to {@link SpoolWriter.enqueue}: each is written or dropped, once. */
export interface SpoolListener {
  written(count: number): void;
  dropped(count: number, reason: DropReason): void;
}

/** What the writer shares with its spool: the segments, oldest first, and the bytes they take on disk. */
export interface SegmentFiles {
  readonly dir: string;
  readonly segments: Segment[];
  diskBytes: number;
}

/** Records handed to the writer per disk write, at most. */
const WRITE_CHUNK_RECORDS = 4096;

/**
 * The spool's background appender: `enqueue` only hands records over (bounded by
 * `maxPendingBytes`); they are written behind, on libuv's worker threads, to the active
 * segment at explicit offsets. A failed write is cut back, so every record handed over is
 * reported written or dropped, exactly once.
 */
export class SpoolWriter {
  readonly #config: SpoolConfig;
  readonly #logger: Logger;
  readonly #files: SegmentFiles;
  #listener: SpoolListener = { written: () => undefined, dropped: () => undefined };
  #active: Segment | null = null;
  #pending: Outbound[][] = [];
  #unwrittenRecords = 0;
  #unwrittenBytes = 0;
  #writing = false;
  #idleWaiters: (() => void)[] = [];
  #dirty = false;
  #syncing = false;
  #syncTimer: NodeJS.Timeout | null = null;
  #closed = false;
  /** Why the last records not written were not: no room, or a failed write. */
  #lastDropReason: DropReason = DropReason.SpoolFull;

  constructor(config: SpoolConfig, logger: Logger, files: SegmentFiles) {
    this.#config = config;
    this.#logger = logger;
    this.#files = files;
    if (config.fsync === FsyncPolicy.Interval) {
      this.#syncTimer = setInterval(() => this.#syncInBackground(), config.fsyncIntervalMs);
      this.#syncTimer.unref();
    }
  }

  attach(listener: SpoolListener): void {
    this.#listener = listener;
  }

  /** Records handed over and not yet written (or dropped). */
  get unwrittenRecords(): number {
    return this.#unwrittenRecords;
  }

  /** The segment appended to, until it is full. */
  isActive(segment: Segment): boolean {
    return segment === this.#active;
  }

  /** True while records are being appended to `segment`. */
  isAppending(segment: Segment): boolean {
    return segment === this.#active && this.#writing;
  }

  /** True when `bytes` more (by record size) may wait for the writer. */
  canTake(bytes: number): boolean {
    return !this.#closed && this.#unwrittenBytes + bytes <= this.#config.maxPendingBytes;
  }

  /** Hands records to the background writer, in order; check {@link canTake} first. Never touches the disk. */
  enqueue(records: Outbound[], bytes: number): void {
    if (records.length === 0) return;
    this.#pending.push(records);
    this.#unwrittenRecords += records.length;
    this.#unwrittenBytes += bytes;
    if (!this.#writing) {
      this.#writing = true;
      setImmediate(() => void this.#drain());
    }
  }

  /** Resolves once every record handed over was written or dropped. */
  whenWritten(): Promise<void> {
    if (!this.#writing) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Waits for the writer (at most `timeoutMs`); what the disk did not take by then is reported
   * dropped. Then forces the active segment to disk (unless fsync is `never`) and closes it.
   */
  async close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    if (this.#syncTimer !== null) clearInterval(this.#syncTimer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.whenWritten(),
      new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, timeoutMs)))),
    ]);
    clearTimeout(timer);
    if (this.#pending.length > 0) {
      // the disk did not take them in time: they are reported dropped, never left unaccounted
      let count = 0;
      for (const chunk of this.#pending.splice(0)) count += chunk.length;
      this.#unwrittenRecords -= count;
      this.#listener.dropped(count, DropReason.Closed);
    }
    const active = this.#active;
    if (active?.fd != null && !this.#writing) {
      if (this.#config.fsync !== FsyncPolicy.Never && this.#dirty) fs.fdatasyncSync(active.fd);
      fs.closeSync(active.fd);
      active.fd = null;
      this.#active = null;
    }
  }

  /** Stops appending to `segment` when it is the active one (it is full, or being removed). */
  release(segment: Segment): void {
    if (segment === this.#active) this.#rollAfter(segment);
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const records: Outbound[] = [];
        let bytes = 0;
        while (this.#pending.length > 0 && records.length < WRITE_CHUNK_RECORDS) {
          const chunk = this.#pending[0] as Outbound[];
          const take = Math.min(chunk.length, WRITE_CHUNK_RECORDS - records.length);
          for (let i = 0; i < take; i++) {
            const record = chunk[i] as Outbound;
            records.push(record);
            bytes += record.size;
          }
          if (take === chunk.length) this.#pending.shift();
          else this.#pending[0] = chunk.slice(take);
        }
        const written = await this.#append(records);
        this.#unwrittenRecords -= records.length;
        this.#unwrittenBytes -= bytes;
        if (written > 0) this.#listener.written(written);
        if (written < records.length) this.#listener.dropped(records.length - written, this.#lastDropReason);
      }
    } finally {
      this.#writing = false;
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  /** Appends a prefix of `records`: what fits and what the disk took. Returns its length; never throws. */
  async #append(records: readonly Outbound[]): Promise<number> {
    const files = this.#files;
    const lengths = records.map(frameLength);
    let done = 0;
    while (done < records.length) {
      let segment: Segment;
      try {
        segment = this.#activeSegment(lengths[done] as number);
      } catch (error) {
        return this.#failed(done, error, null);
      }
      let room = this.#config.maxBytes - files.diskBytes;
      let end = done;
      let bytes = 0;
      while (end < records.length) {
        const length = lengths[end] as number;
        if (length > room) break;
        const fitsSegment = segment.size + bytes + length <= this.#config.segmentBytes;
        if (!fitsSegment && (bytes > 0 || segment.size > SEGMENT_MAGIC.length)) break;
        room -= length;
        bytes += length;
        end += 1;
      }
      if (end === done) {
        if ((lengths[done] as number) > room) {
          this.#lastDropReason = DropReason.SpoolFull;
          return done;
        }
        this.#rollAfter(segment);
        continue;
      }
      const frames = encodeFrames(records.slice(done, end), [], segment.nextSeq);
      const fd = segment.fd as number;
      try {
        await writeAllAtAsync(fd, frames, segment.size);
      } catch (error) {
        return this.#failed(done, error, segment);
      }
      segment.size += frames.length;
      segment.fileBytes = segment.size;
      segment.nextSeq += end - done;
      files.diskBytes += frames.length;
      if (this.#config.fsync === FsyncPolicy.Always) {
        try {
          await fdatasync(fd);
        } catch (error) {
          this.#logger.warn("spool fsync failed", { dir: files.dir, error: String(error) });
        }
      } else {
        this.#dirty = true;
      }
      done = end;
    }
    return done;
  }

  /** A failed write: the segment is cut back to its last good size so the next write lands right after it. */
  async #failed(done: number, error: unknown, segment: Segment | null): Promise<number> {
    this.#lastDropReason = DropReason.SpoolError;
    this.#logger.error("spool write failed: records not written are dropped and counted", {
      dir: this.#files.dir,
      error: String(error),
    });
    if (segment !== null && segment.fd !== null) {
      try {
        await ftruncate(segment.fd, segment.size);
      } catch {
        // cannot cut back: stop appending to this file, whose tail past `size` is garbage
        this.#rollAfter(segment);
      }
    }
    return done;
  }

  /** The segment to append a frame of `length` bytes to, rolled when it is full. */
  #activeSegment(length: number): Segment {
    const active = this.#active;
    if (active !== null && active.fd !== null) {
      if (active.size + length <= this.#config.segmentBytes || active.size === SEGMENT_MAGIC.length) {
        return active;
      }
      this.#rollAfter(active);
    }
    const files = this.#files;
    const last = files.segments[files.segments.length - 1];
    const segment = createSegmentFile(files.dir, last === undefined ? FIRST_ID : last.id + 1, SEGMENT_MAGIC);
    if (this.#config.fsync === FsyncPolicy.Always) syncDirectory(files.dir);
    files.segments.push(segment);
    files.diskBytes += segment.fileBytes;
    this.#active = segment;
    return segment;
  }

  /** Closes the active segment; the next append starts a new one. */
  #rollAfter(segment: Segment): void {
    if (segment.fd !== null) {
      const fd = segment.fd;
      segment.fd = null;
      if (this.#config.fsync !== FsyncPolicy.Never && this.#dirty) {
        fs.fdatasync(fd, () => fs.close(fd, () => undefined));
      } else {
        fs.close(fd, () => undefined);
      }
    }
    this.#dirty = false;
    if (this.#active === segment) this.#active = null;
  }

  #syncInBackground(): void {
    const fd = this.#active?.fd;
    if (!this.#dirty || this.#syncing || fd == null) return;
    this.#dirty = false;
    this.#syncing = true;
    fs.fdatasync(fd, (error) => {
      this.#syncing = false;
      if (error !== null && error.code !== "EBADF") {
        this.#logger.warn("spool fsync failed", { dir: this.#files.dir, error: error.message });
      }
    });
  }
}
