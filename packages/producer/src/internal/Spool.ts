import fs from "node:fs";
import path from "node:path";
import { ErrorCode, NonRetriableError } from "@tracehouse/schemas";
import type { Logger } from "@tracehouse/schemas";
import type { SpoolConfig } from "../config.js";
import { FsyncPolicy } from "../config.js";
import { lockDirectory } from "./dir-lock.js";
import type { Outbound } from "./outbound.js";
import { createSegmentFile, FIRST_ID, recoverSegments, writeAck, writeAllAt } from "./segment-files.js";
import type { Segment } from "./segment-files.js";
import { readRecords } from "./segment-reader.js";
import { encodeFrames, renumber, SEGMENT_MAGIC } from "./spool-format.js";
import { SpoolWriter } from "./SpoolWriter.js";
import type { SegmentFiles, SpoolListener } from "./SpoolWriter.js";

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

export type { SpoolListener } from "./SpoolWriter.js";

/**
 * Append-only on-disk spool of encoded records: numbered segment files, each a header
 * then numbered frames (length, CRC-32, sequence, payload). Appends are written behind by
 * its {@link SpoolWriter}; the sender's own batch is written ahead of the others, and read
 * back and acknowledged in order. A damaged frame is skipped (by its length, or by
 * resynchronising on the next valid frame) and the records lost are counted. The directory
 * is locked by one live producer.
 */
export class Spool {
  readonly #config: SpoolConfig;
  readonly #dir: string;
  readonly #logger: Logger;
  readonly #release: () => void;
  readonly #files: SegmentFiles;
  readonly #segments: Segment[];
  readonly #writer: SpoolWriter;
  #cache: { readonly segment: Segment; readonly data: Buffer } | null = null;
  #lost = 0;
  #closed = false;

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
    this.#files = { dir, segments, diskBytes: segments.reduce((sum, s) => sum + s.fileBytes, 0) };
    this.#writer = new SpoolWriter(config, logger, this.#files);
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
    this.#writer.attach(listener);
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
    return this.#writer.unwrittenRecords;
  }

  get isEmpty(): boolean {
    return this.#writer.unwrittenRecords === 0 && this.pendingBytes === 0;
  }

  /** True when `bytes` more (by record size) may wait for the writer. */
  canTake(bytes: number): boolean {
    return this.#writer.canTake(bytes);
  }

  /** Hands records to the background writer, in order; check {@link canTake} first. Never touches the disk. */
  enqueue(records: Outbound[], bytes: number): void {
    this.#writer.enqueue(records, bytes);
  }

  /** Resolves once every record handed over was written or dropped. */
  whenWritten(): Promise<void> {
    return this.#writer.whenWritten();
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
    if (
      this.#files.diskBytes + frames.length + groups.length * SEGMENT_MAGIC.length >
      this.#config.maxBytes
    ) {
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
      for (const segment of created) this.#files.diskBytes += segment.size;
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
        if (this.#writer.isActive(segment)) return null;
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
      else if (!this.#writer.isAppending(segment)) this.#remove(segment);
    });
  }

  /** Waits for the writer (at most `timeoutMs`), forces data to disk unless fsync is `never`, releases the lock. */
  async close(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#writer.close(timeoutMs);
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

  #remove(segment: Segment): void {
    const index = this.#segments.indexOf(segment);
    if (index >= 0) this.#segments.splice(index, 1);
    this.#writer.release(segment);
    if (this.#cache?.segment === segment) this.#cache = null;
    fs.rmSync(segment.path, { force: true });
    fs.rmSync(`${segment.path.slice(0, -".seg".length)}.ack`, { force: true });
    this.#files.diskBytes -= segment.fileBytes;
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
}

function slotDirs(base: string, slots: number): string[] {
  return Array.from({ length: slots }, (_, i) => path.join(base, String(i)));
}
