import type { Outbound } from "./outbound.js";
import type { Segment } from "./segment-files.js";
import { readFrame, resync, SEGMENT_HEADER_BYTES, segmentVersion } from "./spool-format.js";
import type { SegmentVersion } from "./spool-format.js";

/** A damaged stretch of a segment: `lost` records from `offset`, over `skippedBytes`. */
export interface Damage {
  readonly offset: number;
  readonly skippedBytes: number;
  readonly lost: number;
  readonly reason: string;
}

/** Where reading continues after the damaged frame at `at` (relative to `data`): past it by its length, else the next valid frame. */
function skip(data: Buffer, at: number, version: SegmentVersion, expectSeq: number | null): number | null {
  const header = version === 2 ? 12 : 8;
  if (at + header <= data.length) {
    const end = at + header + data.readUInt32LE(at);
    if (end === data.length || (end < data.length && readFrame(data, end, version).kind === "record")) {
      return end;
    }
  }
  return resync(data, at + 1, version, expectSeq === null ? null : expectSeq - 1);
}

/**
 * Reads records of `segment` from its read offset, up to the limits (at least one).
 * `data` holds the segment's bytes from offset `base` to its size. A damaged frame is
 * skipped and reported with the records lost (from the sequence numbers where known);
 * with no valid frame after it, the segment's readable data ends there (`size` is cut).
 * Returns the records and the offset where reading stopped.
 */
export function readRecords(
  segment: Segment,
  data: Buffer,
  base: number,
  maxRecords: number,
  maxBytes: number,
  onDamage: (damage: Damage) => void,
): { records: Outbound[]; end: number } {
  const records: Outbound[] = [];
  const version = segment.version;
  if (version === null || (segment.readOffset < SEGMENT_HEADER_BYTES && segmentVersion(data) === null)) {
    onDamage({ offset: 0, skippedBytes: segment.size, lost: 1, reason: "not a spool segment (bad header)" });
    segment.size = 0;
    segment.readOffset = 0;
    return { records, end: 0 };
  }
  if (segment.readOffset < SEGMENT_HEADER_BYTES) segment.readOffset = SEGMENT_HEADER_BYTES;
  let bytes = 0;
  let at = segment.readOffset;
  while (at < segment.size && records.length < maxRecords) {
    const frame = readFrame(data, at - base, version);
    if (frame.kind === "record") {
      if (records.length > 0 && bytes + frame.record.size > maxBytes) break;
      records.push(frame.record);
      bytes += frame.record.size;
      if (frame.seq !== null) segment.expectSeq = frame.seq + 1;
      at = frame.next + base;
      continue;
    }
    const reason = frame.kind === "torn" ? "torn or misframed write" : frame.reason;
    const next = skip(data, at - base, version, segment.expectSeq);
    if (next === null) {
      onDamage({ offset: at, skippedBytes: segment.size - at, lost: 1, reason });
      segment.size = at;
      if (segment.readOffset > at) segment.readOffset = at;
      break;
    }
    const nextSeq = version === 2 && next < data.length ? data.readUInt32LE(next + 8) : null;
    const lost =
      nextSeq !== null && segment.expectSeq !== null ? Math.max(1, nextSeq - segment.expectSeq) : 1;
    onDamage({ offset: at, skippedBytes: next + base - at, lost, reason });
    if (nextSeq !== null) segment.expectSeq = nextSeq;
    at = next + base;
  }
  return { records, end: at };
}
