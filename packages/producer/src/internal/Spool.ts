import fs from "node:fs";
import path from "node:path";
import { ErrorCode, NonRetriableError } from "@tracehouse/schemas";
import type { Logger } from "@tracehouse/schemas";
import type { SpoolConfig } from "../config.js";
import { FsyncPolicy } from "../config.js";
import { lockDirectory } from "./dir-lock.js";
import type { Outbound } from "./outbound.js";
import { encodeFrames, readFrame, SEGMENT_MAGIC } from "./spool-format.js";

const SEGMENT_SUFFIX = ".seg";
const ACK_SUFFIX = ".ack";
const ID_DIGITS = 16;
/** Ids of a new spool start here, leaving room below for segments written ahead of the oldest. */
const FIRST_ID = 1_000_000_000_000;

interface Segment {
  readonly id: number;
  readonly path: string;
  /** End of the readable data; below the file size when a torn or corrupt frame cut it short. */
  size: number;
  /** Bytes the file takes on disk. */
  fileBytes: number;
  /** Everything before this offset has been sent. */
  readOffset: number;
  /** Left by an earlier process. */
  readonly recovered: boolean;
  /** Open for appending: only the active segment. */
  fd: number | null;
}

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

function segmentName(id: number): string {
  return String(id).padStart(ID_DIGITS, "0") + SEGMENT_SUFFIX;
}

function writeAll(fd: number, data: Buffer): void {
  let at = 0;
  while (at < data.length) at += fs.writeSync(fd, data, at, data.length - at);
}

/**
 * Append-only on-disk spool of encoded records: numbered segment files, each a magic
 * header then frames (length, CRC-32, payload). Records are read back oldest first;
 * a torn or corrupt frame ends its segment's readable data and is counted. The
 * directory is locked by one live producer; a new producer resumes what a dead one left.
 */
export class Spool {
  readonly #config: SpoolConfig;
  readonly #logger: Logger;
  readonly #release: () => void;
  readonly #segments: Segment[];
  #active: Segment | null = null;
  #diskBytes: number;
  #cache: { readonly segment: Segment; readonly data: Buffer } | null = null;
  #dirty = false;
  #syncing = false;
  #syncTimer: NodeJS.Timeout | null = null;
  #lost = 0;
  #closed = false;

  private constructor(config: SpoolConfig, logger: Logger, release: () => void, segments: Segment[]) {
    this.#config = config;
    this.#logger = logger;
    this.#release = release;
    this.#segments = segments;
    this.#diskBytes = segments.reduce((sum, s) => sum + s.fileBytes, 0);
    if (config.fsync === FsyncPolicy.Interval) {
      this.#syncTimer = setInterval(() => this.#syncInBackground(), config.fsyncIntervalMs);
      this.#syncTimer.unref();
    }
  }

  /** Locks the directory (creating it) and lists what an earlier process left. */
  static open(config: SpoolConfig, logger: Logger): Spool {
    try {
      fs.mkdirSync(config.dir, { recursive: true });
    } catch (cause) {
      throw new NonRetriableError(`cannot create spool directory ${config.dir}`, {
        code: ErrorCode.Spool,
        cause,
      });
    }
    const release = lockDirectory(config.dir);
    try {
      const segments = Spool.#recover(config.dir, logger);
      return new Spool(config, logger, release, segments);
    } catch (cause) {
      release();
      throw new NonRetriableError(`cannot read spool directory ${config.dir}`, {
        code: ErrorCode.Spool,
        cause,
      });
    }
  }

  static #recover(dir: string, logger: Logger): Segment[] {
    const names = fs.readdirSync(dir);
    const segments: Segment[] = [];
    for (const name of names) {
      if (!name.endsWith(SEGMENT_SUFFIX)) continue;
      const id = Number(name.slice(0, -SEGMENT_SUFFIX.length));
      if (!Number.isSafeInteger(id)) continue;
      const file = path.join(dir, name);
      const fileBytes = fs.statSync(file).size;
      segments.push({ id, path: file, size: fileBytes, fileBytes, readOffset: 0, recovered: true, fd: null });
    }
    segments.sort((a, b) => a.id - b.id);
    for (const segment of segments) {
      const acked = readAckOffset(segment);
      if (acked !== null) segment.readOffset = acked;
    }
    for (const name of names) {
      if (name.endsWith(".tmp")) fs.rmSync(path.join(dir, name), { force: true });
      if (!name.endsWith(ACK_SUFFIX)) continue;
      if (
        !segments.some(
          (s) => `${s.path.slice(0, -SEGMENT_SUFFIX.length)}${ACK_SUFFIX}` === path.join(dir, name),
        )
      ) {
        fs.rmSync(path.join(dir, name), { force: true });
      }
    }
    const pending = segments.reduce((sum, s) => sum + (s.size - s.readOffset), 0);
    if (pending > 0) {
      logger.info("spool holds records left by an earlier process", {
        dir,
        segments: segments.length,
        bytes: pending,
      });
    }
    return segments;
  }

  get dir(): string {
    return this.#config.dir;
  }

  /** Bytes of unsent frames. */
  get pendingBytes(): number {
    let pending = 0;
    for (const segment of this.#segments) pending += segment.size - segment.readOffset;
    return pending;
  }

  get isEmpty(): boolean {
    return this.pendingBytes === 0;
  }

  /** Records found torn or corrupt since the last call. */
  takeLost(): number {
    const lost = this.#lost;
    this.#lost = 0;
    return lost;
  }

  /**
   * Appends the records in order, as many as there is room for (a prefix of `records`).
   * Returns how many were written. Throws a TracehouseError (code SPOOL) on an I/O error.
   */
  append(records: readonly Outbound[]): number {
    if (records.length === 0) return 0;
    const lengths: number[] = [];
    const frames = encodeFrames(records, lengths);
    let count = 0;
    let total = 0;
    const room = this.#config.maxBytes - this.#diskBytes - SEGMENT_MAGIC.length;
    while (count < records.length && total + (lengths[count] as number) <= room) {
      total += lengths[count] as number;
      count += 1;
    }
    if (count === 0) return 0;
    this.#io(() => this.#appendFrames(frames.subarray(0, total), lengths, count));
    return count;
  }

  /**
   * Makes `records` the oldest records of the spool, all or none: appended when the
   * spool is empty, else written to a new segment ahead of the others. Returns where
   * they end, or null when there is no room.
   */
  writeHead(records: readonly Outbound[]): SpoolPosition | null {
    const lengths: number[] = [];
    const frames = encodeFrames(records, lengths);
    if (this.#diskBytes + frames.length + SEGMENT_MAGIC.length > this.#config.maxBytes) return null;
    return this.#io(() => {
      if (this.isEmpty) return this.#appendFrames(frames, lengths, records.length);
      const first = this.#segments[0];
      const segment = this.#createSegment(first === undefined ? FIRST_ID : first.id - 1);
      try {
        this.#write(segment, frames);
        if (this.#config.fsync !== FsyncPolicy.Never) fs.fdatasyncSync(segment.fd as number);
      } finally {
        fs.closeSync(segment.fd as number);
        segment.fd = null;
      }
      this.#segments.unshift(segment);
      return { segment, offset: segment.size };
    });
  }

  /** The oldest unsent records, up to the limits (at least one), from one segment; null when empty. */
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
      if (segment.readOffset >= segment.size) {
        this.#remove(segment);
        return;
      }
      const ackPath = `${segment.path.slice(0, -SEGMENT_SUFFIX.length)}${ACK_SUFFIX}`;
      fs.writeFileSync(`${ackPath}.tmp`, String(segment.readOffset));
      fs.renameSync(`${ackPath}.tmp`, ackPath);
    });
  }

  /** Forces appended data to disk now, whatever the fsync policy. */
  sync(): void {
    if (this.#active?.fd != null && this.#dirty) {
      this.#io(() => fs.fdatasyncSync(this.#active?.fd as number));
      this.#dirty = false;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#syncTimer !== null) clearInterval(this.#syncTimer);
    try {
      if (this.#config.fsync !== FsyncPolicy.Never) this.sync();
      if (this.#active?.fd != null) fs.closeSync(this.#active.fd);
      if (this.#active !== null) this.#active.fd = null;
      this.#active = null;
      for (const segment of [...this.#segments]) {
        if (segment.readOffset >= segment.size) this.#remove(segment);
      }
    } finally {
      this.#release();
    }
  }

  #io<T>(action: () => T): T {
    try {
      return action();
    } catch (cause) {
      throw new NonRetriableError(`spool I/O failed in ${this.#config.dir}: ${String(cause)}`, {
        code: ErrorCode.Spool,
        cause,
      });
    }
  }

  #appendFrames(frames: Buffer, lengths: readonly number[], count: number): SpoolPosition {
    let segment = this.#active ?? this.#roll();
    let chunkStart = 0;
    let at = 0;
    for (let i = 0; i < count; i++) {
      const length = lengths[i] as number;
      const pending = at - chunkStart;
      if (
        segment.size + pending + length > this.#config.segmentBytes &&
        segment.size + pending > SEGMENT_MAGIC.length
      ) {
        this.#write(segment, frames.subarray(chunkStart, at));
        chunkStart = at;
        segment = this.#roll();
      }
      at += length;
    }
    this.#write(segment, frames.subarray(chunkStart, at));
    if (this.#config.fsync === FsyncPolicy.Always) fs.fdatasyncSync(segment.fd as number);
    else this.#dirty = true;
    return { segment, offset: segment.size };
  }

  #write(segment: Segment, data: Buffer): void {
    if (data.length === 0) return;
    writeAll(segment.fd as number, data);
    segment.size += data.length;
    segment.fileBytes += data.length;
    this.#diskBytes += data.length;
  }

  #createSegment(id: number): Segment {
    const file = path.join(this.#config.dir, segmentName(id));
    const fd = fs.openSync(file, "wx+");
    const segment: Segment = {
      id,
      path: file,
      size: 0,
      fileBytes: 0,
      readOffset: SEGMENT_MAGIC.length,
      recovered: false,
      fd,
    };
    this.#write(segment, SEGMENT_MAGIC);
    if (this.#config.fsync === FsyncPolicy.Always) {
      fs.fdatasyncSync(fd);
      syncDirectory(this.#config.dir);
    }
    return segment;
  }

  /** Closes the active segment and starts the next one after the newest. */
  #roll(): Segment {
    const previous = this.#active;
    if (previous !== null && previous.fd !== null) {
      if (this.#config.fsync !== FsyncPolicy.Never && this.#dirty) fs.fdatasyncSync(previous.fd);
      fs.closeSync(previous.fd);
      previous.fd = null;
    }
    this.#dirty = false;
    const last = this.#segments[this.#segments.length - 1];
    const segment = this.#createSegment(last === undefined ? FIRST_ID : last.id + 1);
    this.#segments.push(segment);
    this.#active = segment;
    return segment;
  }

  #remove(segment: Segment): void {
    const index = this.#segments.indexOf(segment);
    if (index >= 0) this.#segments.splice(index, 1);
    if (segment.fd !== null) {
      fs.closeSync(segment.fd);
      segment.fd = null;
    }
    if (segment === this.#active) {
      this.#active = null;
      this.#dirty = false;
    }
    if (this.#cache?.segment === segment) this.#cache = null;
    fs.rmSync(segment.path, { force: true });
    fs.rmSync(`${segment.path.slice(0, -SEGMENT_SUFFIX.length)}${ACK_SUFFIX}`, { force: true });
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
    if (segment.readOffset < SEGMENT_MAGIC.length) {
      if (
        data.length < SEGMENT_MAGIC.length ||
        !data.subarray(0, SEGMENT_MAGIC.length).equals(SEGMENT_MAGIC)
      ) {
        this.#cut(segment, 0, "not a spool segment (bad header)");
        return null;
      }
      segment.readOffset = SEGMENT_MAGIC.length;
    }
    const records: Outbound[] = [];
    let bytes = 0;
    let at = segment.readOffset;
    while (at < segment.size && records.length < maxRecords) {
      const frame = readFrame(data, at - base);
      if (frame.kind !== "record") {
        this.#cut(segment, at, frame.kind === "torn" ? "torn write" : frame.reason);
        break;
      }
      if (records.length > 0 && bytes + frame.record.size > maxBytes) break;
      records.push(frame.record);
      bytes += frame.record.size;
      at = frame.next + base;
    }
    if (records.length === 0) return null;
    return { records, end: { segment, offset: at }, recovered: segment.recovered };
  }

  /** Ends the segment's readable data at `at`: the frame there is torn or corrupt, and what follows cannot be trusted. */
  #cut(segment: Segment, at: number, reason: string): void {
    this.#logger.warn("spool segment damaged: skipping the rest of it", {
      segment: segment.path,
      offset: at,
      skippedBytes: segment.size - at,
      reason,
    });
    this.#lost += 1;
    segment.size = at;
    if (segment.readOffset > at) segment.readOffset = at;
  }

  #syncInBackground(): void {
    const fd = this.#active?.fd;
    if (!this.#dirty || this.#syncing || fd == null) return;
    this.#dirty = false;
    this.#syncing = true;
    fs.fdatasync(fd, (error) => {
      this.#syncing = false;
      if (error !== null && error.code !== "EBADF") {
        this.#logger.warn("spool fsync failed", { dir: this.#config.dir, error: error.message });
      }
    });
  }
}

function readAckOffset(segment: Segment): number | null {
  try {
    const text = fs.readFileSync(`${segment.path.slice(0, -SEGMENT_SUFFIX.length)}${ACK_SUFFIX}`, "utf8");
    const offset = Number(text);
    return Number.isSafeInteger(offset) && offset >= SEGMENT_MAGIC.length && offset <= segment.size
      ? offset
      : null;
  } catch {
    return null;
  }
}

function syncDirectory(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
