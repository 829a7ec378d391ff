import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import type { Logger } from "@tracehouse/schemas";
import { SEGMENT_HEADER_BYTES, segmentVersion } from "./spool-format.js";
import type { SegmentVersion } from "./spool-format.js";

export const SEGMENT_SUFFIX = ".seg";
const ACK_SUFFIX = ".ack";
const ID_DIGITS = 16;
/** Ids of a new spool start here, leaving room below for segments written ahead of the oldest. */
export const FIRST_ID = 1_000_000_000_000;

/** One segment file of the spool. */
export interface Segment {
  readonly id: number;
  readonly path: string;
  /** Null when the file does not start with a segment header. */
  readonly version: SegmentVersion | null;
  /** End of the data written and readable; the file is cut back to it after a failed write. */
  size: number;
  /** Bytes the file takes on disk. */
  fileBytes: number;
  /** Everything before this offset has been sent. */
  readOffset: number;
  /** Sequence number the next frame read should carry; null when unknown (resumed mid-segment). */
  expectSeq: number | null;
  /** Sequence number of the next frame written (the active segment). */
  nextSeq: number;
  /** Left by an earlier process. */
  readonly recovered: boolean;
  /** Open for appending: only the active segment and a head segment being written. */
  fd: number | null;
}

export function segmentPath(dir: string, id: number): string {
  return path.join(dir, String(id).padStart(ID_DIGITS, "0") + SEGMENT_SUFFIX);
}

export function ackPath(segment: Segment): string {
  return `${segment.path.slice(0, -SEGMENT_SUFFIX.length)}${ACK_SUFFIX}`;
}

/** A new, empty segment file holding only its header. Removes the file again when the header cannot be written. */
export function createSegmentFile(dir: string, id: number, header: Buffer): Segment {
  const file = segmentPath(dir, id);
  const fd = fs.openSync(file, "wx+");
  try {
    writeAllAt(fd, header, 0);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw error;
  }
  return {
    id,
    path: file,
    version: 2,
    size: header.length,
    fileBytes: header.length,
    readOffset: header.length,
    expectSeq: 0,
    nextSeq: 0,
    recovered: false,
    fd,
  };
}

/** Writes all of `data` at `position`, synchronously. */
export function writeAllAt(fd: number, data: Buffer, position: number): void {
  let at = 0;
  while (at < data.length) at += fs.writeSync(fd, data, at, data.length - at, position + at);
}

function write(
  fd: number,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.write(fd, buffer, offset, length, position, (error, written) =>
      error === null ? resolve(written) : reject(error),
    ),
  );
}
export const fdatasync = promisify(fs.fdatasync);
export const ftruncate = promisify(fs.ftruncate);

/** Writes all of `data` at `position` on a libuv worker thread, never on the caller's. */
export async function writeAllAtAsync(fd: number, data: Buffer, position: number): Promise<void> {
  let at = 0;
  while (at < data.length) at += await write(fd, data, at, data.length - at, position + at);
}

function readHeader(file: string): SegmentVersion | null {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  const fd = fs.openSync(file, "r");
  try {
    const n = fs.readSync(fd, header, 0, header.length, 0);
    return segmentVersion(header.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
}

function readAckOffset(segment: Segment): number | null {
  try {
    const offset = Number(fs.readFileSync(ackPath(segment), "utf8"));
    return Number.isSafeInteger(offset) && offset >= SEGMENT_HEADER_BYTES && offset <= segment.size
      ? offset
      : null;
  } catch {
    return null;
  }
}

/** The segments an earlier process left in `dir`, oldest first, with their acknowledged offsets. */
export function recoverSegments(dir: string, logger: Logger): Segment[] {
  const names = fs.readdirSync(dir);
  const segments: Segment[] = [];
  for (const name of names) {
    if (name.endsWith(".tmp")) fs.rmSync(path.join(dir, name), { force: true });
    if (!name.endsWith(SEGMENT_SUFFIX)) continue;
    const id = Number(name.slice(0, -SEGMENT_SUFFIX.length));
    if (!Number.isSafeInteger(id)) continue;
    const file = path.join(dir, name);
    const fileBytes = fs.statSync(file).size;
    const segment: Segment = {
      id,
      path: file,
      version: readHeader(file),
      size: fileBytes,
      fileBytes,
      readOffset: 0,
      expectSeq: 0,
      nextSeq: 0,
      recovered: true,
      fd: null,
    };
    const acked = readAckOffset(segment);
    if (acked !== null) {
      segment.readOffset = acked;
      segment.expectSeq = null;
    }
    segments.push(segment);
  }
  segments.sort((a, b) => a.id - b.id);
  const acks = new Set(segments.map(ackPath));
  for (const name of names) {
    const file = path.join(dir, name);
    if (name.endsWith(ACK_SUFFIX) && !acks.has(file)) fs.rmSync(file, { force: true });
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

/** Records that `segment` was sent up to its read offset, atomically (write then rename). */
export function writeAck(segment: Segment): void {
  const file = ackPath(segment);
  fs.writeFileSync(`${file}.tmp`, String(segment.readOffset));
  fs.renameSync(`${file}.tmp`, file);
}

export function syncDirectory(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
