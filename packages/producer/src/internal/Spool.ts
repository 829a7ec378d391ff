import fs from "node:fs";
import path from "node:path";
import { ErrorCode, NonRetriableError } from "@tracehouse/schemas";
import type { Logger } from "@tracehouse/schemas";
import type { SpoolConfig } from "../config.js";
import { FsyncPolicy } from "../config.js";
import { DropReason } from "../stats.js";
import { lockDirectory } from "./dir-lock.js";
import type { Outbound } from "./outbound.js";
import {
  createSegmentFile,
  fdatasync,
  FIRST_ID,
  ftruncate,
  recoverSegments,
  syncDirectory,
  writeAck,
  writeAllAt,
  writeAllAtAsync,
} from "./segment-files.js";
import type { Segment } from "./segment-files.js";
import { readRecords } from "./segment-reader.js";
import { encodeFrames, frameLength, renumber, SEGMENT_MAGIC } from "./spool-format.js";

/** Where a batch of spooled records ends; acknowledging it releases everything before. */
export interface SpoolPosition {
  readonly segment: Segment;
  readonly offset: number;
}

export interface SpoolBatch {
  readonly records: Outbound[];
  readonly end: SpoolPosition;
  /** The records were left by an earlier process. */
  readonly recovered: boolean;
}

/** Told what became of records handed to {@link Spool.enqueue}: each is written or dropped, once. */
export interface SpoolListener {
  written(count: number): void;
  dropped(count: number, reason: DropReason): void;
}

/** Records handed to the writer per disk write, at most. */
const WRITE_CHUNK_RECORDS = 4096;

/**
 * Append-only on-disk spool of encoded records: numbered segment files, each a header
 * then numbered frames (length, CRC-32, sequence, payload). Appends are written behind,
 * on libuv's worker threads: `enqueue` only hands records over, bounded by
 * `maxPendingBytes`. Writes go to explicit offsets and a failed write is cut back, so
 * every record handed over is reported written or dropped, exactly once. A damaged frame
 * is skipped (by its length, or by resynchronising on the next valid frame) and the
 * records lost are counted. The directory is locked by one live producer.
 */
export class Spool {
  readonly #config: SpoolConfig;
  readonly #dir: string;
  readonly #logger: Logger;
  readonly #release: () => void;
  readonly #segments: Segment[];
  #listener: SpoolListener = { written: () => undefined, dropped: () => undefined };
  #active: Segment | null = null;
  #diskBytes: number;
  #cache: { readonly segment: Segment; readonly data: Buffer } | null = null;
  #pending: Outbound[][] = [];
  #unwrittenRecords = 0;
  #unwrittenBytes = 0;
  #writing = false;
  #idleWaiters: (() => void)[] = [];
  #dirty = false;
  #syncing = false;
  #syncTimer: NodeJS.Timeout | null = null;
  #lost = 0;
  #closed = false;
  /** Why the last records not written were not: no room, or a failed write. */
  #lastDropReason: DropReason = DropReason.SpoolFull;

  private constructor(
    config: SpoolConfig,
    dir: string,
    logger: Logger,
    release: () => void,
    segments: Segment[],
  ) {
    this.#config = config;
    this.#dir = dir;
    this.#logger = logger;
    this.#release = release;
    this.#segments = segments;
    this.#diskBytes = segments.reduce((sum, s) => sum + s.fileBytes, 0);
    if (config.fsync === FsyncPolicy.Interval) {
      this.#syncTimer = setInterval(() => this.#syncInBackground(), config.fsyncIntervalMs);
      this.#syncTimer.unref();
    }
  }

  /**
   * Locks the directory (creating it) and lists what an earlier process left. With a
   * shared directory (the default one), takes the first of its numbered slots that no
   * live producer holds, so processes with the same client id each get their own.
   */
  static open(config: SpoolConfig, logger: Logger): Spool {
    const candidates = config.slots === 0 ? [config.dir] : slotDirs(config.dir, config.slots);
    let lastError: unknown;
    for (const dir of candidates) {
      try {
        fs.mkdirSync(dir, { recursive: true });
      } catch (cause) {
        throw new NonRetriableError(`cannot create spool directory ${dir}`, { code: ErrorCode.Spool, cause });
      }
      let release: () => void;
      try {
        release = lockDirectory(dir);
      } catch (error) {
        lastError = error;
        continue;
      }
      try {
        return new Spool(config, dir, logger, release, recoverSegments(dir, logger));
      } catch (cause) {
        release();
        throw new NonRetriableError(`cannot read spool directory ${dir}`, { code: ErrorCode.Spool, cause });
      }
    }
    throw lastError;
  }

  /** Where written and dropped records are reported. */
  attach(listener: SpoolListener): void {
    this.#listener = listener;
  }

  get dir(): string {
    return this.#dir;
  }

  /** Bytes of unsent frames on disk. */
  get pendingBytes(): number {
    let pending = 0;
    for (const segment of this.#segments) pending += segment.size - segment.readOffset;
    return pending;
  }

  /** Records handed over and not yet written (or dropped). */
  get unwrittenRecords(): number {
    return this.#unwrittenRecords;
  }

  get isEmpty(): boolean {
    return this.#unwrittenRecords === 0 && this.pendingBytes === 0;
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

  /** Records found torn or corrupt since the last call. */
  takeLost(): number {
    const lost = this.#lost;
    this.#lost = 0;
    return lost;
  }

  /**
   * Makes `records` the oldest records of the spool, all or none, in new segments ahead
   * of the others (synchronously: the sender's batch, never the caller's). Returns where
   * they end, or null when there is no room. Throws a TracehouseError (code SPOOL) on an I/O error.
   */
  writeHead(records: readonly Outbound[]): SpoolPosition | null {
    const lengths: number[] = [];
    const frames = encodeFrames(records, lengths, 0);
    const groups: Buffer[] = [];
    let start = 0;
    let bytes = 0;
    for (const length of lengths) {
      if (bytes > 0 && SEGMENT_MAGIC.length + bytes + length > this.#config.segmentBytes) {
        groups.push(frames.subarray(start, start + bytes));
        start += bytes;
        bytes = 0;
      }
      bytes += length;
    }
    groups.push(frames.subarray(start, start + bytes));
    if (this.#diskBytes + frames.length + groups.length * SEGMENT_MAGIC.length > this.#config.maxBytes) {
      return null;
    }
    const firstId = (this.#segments[0]?.id ?? FIRST_ID) - groups.length;
    const created: Segment[] = [];
    return this.#io(() => {
      try {
        for (const [i, group] of groups.entries()) {
          const segment = createSegmentFile(this.#dir, firstId + i, SEGMENT_MAGIC);
          created.push(segment);
          // frames are numbered from 0 in each segment
          const renumbered = i === 0 ? group : renumber(group, segment.version ?? 2);
          writeAllAt(segment.fd as number, renumbered, segment.size);
          if (this.#config.fsync !== FsyncPolicy.Never) fs.fdatasyncSync(segment.fd as number);
          segment.size += group.length;
          segment.fileBytes = segment.size;
        }
      } catch (error) {
        for (const segment of created) {
          if (segment.fd !== null) fs.closeSync(segment.fd);
          segment.fd = null;
          fs.rmSync(segment.path, { force: true });
        }
        throw error;
      } finally {
        for (const segment of created) {
          if (segment.fd !== null) fs.closeSync(segment.fd);
          segment.fd = null;
        }
      }
      for (const segment of created) this.#diskBytes += segment.size;
      this.#segments.unshift(...created);
      const last = created[created.length - 1] as Segment;
      return { segment: last, offset: last.size };
    });
  }

  /** The oldest unsent records on disk, up to the limits (at least one), from one segment; null when none. */
  read(maxRecords: number, maxBytes: number): SpoolBatch | null {
    while (this.#segments.length > 0) {
      const segment = this.#segments[0] as Segment;
      if (segment.readOffset >= segment.size) {
        if (segment === this.#active) return null;
        this.#remove(segment);
        continue;
      }
      const batch = this.#readSegment(segment, maxRecords, maxBytes);
      if (batch !== null) return batch;
    }
    return null;
  }

  /** Marks everything up to `end` as sent: fully sent segments are deleted. */
  ack(end: SpoolPosition): void {
    this.#io(() => {
      while (this.#segments.length > 0 && this.#segments[0] !== end.segment) {
        this.#remove(this.#segments[0] as Segment);
      }
      const segment = end.segment;
      if (!this.#segments.includes(segment)) return;
      segment.readOffset = Math.max(segment.readOffset, end.offset);
      if (segment.readOffset < segment.size) writeAck(segment);
      else if (segment !== this.#active || !this.#writing) this.#remove(segment);
    });
  }

  /** Waits for the writer (at most `timeoutMs`), forces data to disk unless fsync is `never`, releases the lock. */
  async close(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
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
    try {
      const fd = this.#active?.fd;
      if (fd != null && !this.#writing) {
        if (this.#config.fsync !== FsyncPolicy.Never && this.#dirty) fs.fdatasyncSync(fd);
        fs.closeSync(fd);
        (this.#active as Segment).fd = null;
        this.#active = null;
      }
      for (const segment of [...this.#segments]) {
        if (segment.readOffset >= segment.size && segment.fd === null) this.#remove(segment);
      }
    } finally {
      this.#release();
    }
  }

  #io<T>(action: () => T): T {
    try {
      return action();
    } catch (cause) {
      throw new NonRetriableError(`spool I/O failed in ${this.#dir}: ${String(cause)}`, {
        code: ErrorCode.Spool,
        cause,
      });
    }
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
    const lengths = records.map(frameLength);
    let done = 0;
    while (done < records.length) {
      let segment: Segment;
      try {
        segment = this.#activeSegment(lengths[done] as number);
      } catch (error) {
        return this.#failed(done, error, null);
      }
      let room = this.#config.maxBytes - this.#diskBytes;
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
      this.#diskBytes += frames.length;
      if (this.#config.fsync === FsyncPolicy.Always) {
        try {
          await fdatasync(fd);
        } catch (error) {
          this.#logger.warn("spool fsync failed", { dir: this.#dir, error: String(error) });
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
      dir: this.#dir,
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
    const last = this.#segments[this.#segments.length - 1];
    const segment = createSegmentFile(this.#dir, last === undefined ? FIRST_ID : last.id + 1, SEGMENT_MAGIC);
    if (this.#config.fsync === FsyncPolicy.Always) syncDirectory(this.#dir);
    this.#segments.push(segment);
    this.#diskBytes += segment.fileBytes;
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

  #remove(segment: Segment): void {
    const index = this.#segments.indexOf(segment);
    if (index >= 0) this.#segments.splice(index, 1);
    if (segment === this.#active) this.#rollAfter(segment);
    if (this.#cache?.segment === segment) this.#cache = null;
    fs.rmSync(segment.path, { force: true });
    fs.rmSync(`${segment.path.slice(0, -".seg".length)}.ack`, { force: true });
    this.#diskBytes -= segment.fileBytes;
  }

  /** The segment's bytes [0, size) for a closed segment, or [readOffset, size) for the active one. */
  #load(segment: Segment): { data: Buffer; base: number } {
    if (segment.fd === null) {
      if (this.#cache?.segment !== segment) {
        this.#cache = { segment, data: this.#io(() => fs.readFileSync(segment.path)) };
      }
      return { data: this.#cache.data.subarray(0, segment.size), base: 0 };
    }
    const length = segment.size - segment.readOffset;
    const data = Buffer.allocUnsafe(length);
    this.#io(() => {
      let at = 0;
      while (at < length) {
        const n = fs.readSync(segment.fd as number, data, at, length - at, segment.readOffset + at);
        if (n === 0) throw new Error(`segment ${segment.path} is shorter than written`);
        at += n;
      }
    });
    return { data, base: segment.readOffset };
  }

  #readSegment(segment: Segment, maxRecords: number, maxBytes: number): SpoolBatch | null {
    const { data, base } = this.#load(segment);
    const { records, end } = readRecords(segment, data, base, maxRecords, maxBytes, (damage) => {
      this.#logger.warn("spool segment damaged: skipping the records there", {
        segment: segment.path,
        ...damage,
      });
      this.#lost += damage.lost;
    });
    if (records.length === 0) {
      if (end > segment.readOffset && end <= segment.size) this.ack({ segment, offset: end });
      return null;
    }
    return { records, end: { segment, offset: end }, recovered: segment.recovered };
  }

  #syncInBackground(): void {
    const fd = this.#active?.fd;
    if (!this.#dirty || this.#syncing || fd == null) return;
    this.#dirty = false;
    this.#syncing = true;
    fs.fdatasync(fd, (error) => {
      this.#syncing = false;
      if (error !== null && error.code !== "EBADF") {
        this.#logger.warn("spool fsync failed", { dir: this.#dir, error: error.message });
      }
    });
  }
}

function slotDirs(base: string, slots: number): string[] {
  return Array.from({ length: slots }, (_, i) => path.join(base, String(i)));
}
