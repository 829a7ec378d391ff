import { crc32 } from "node:zlib";
import type { Outbound } from "./outbound.js";

/**
 * Every segment file starts with 8 bytes: "THSP", then the format version (u32 BE).
 * Version 2 frames: u32 payload length, u32 CRC-32 of (sequence, payload), u32 sequence
 * number within the segment, payload. Version 1 (read only) has no sequence number.
 */
export const SEGMENT_MAGIC = Buffer.from([0x54, 0x48, 0x53, 0x50, 0x00, 0x00, 0x00, 0x02]);
const MAGIC_V1 = Buffer.from([0x54, 0x48, 0x53, 0x50, 0x00, 0x00, 0x00, 0x01]);
export const SEGMENT_HEADER_BYTES = SEGMENT_MAGIC.length;
export type SegmentVersion = 1 | 2;
/** Frame header bytes of the current version. */
export const FRAME_HEADER_BYTES = 12;
const PAYLOAD_VERSION = 1;
/** version byte, two empty short strings, header count, value length. */
const MIN_PAYLOAD = 1 + 2 + 2 + 1 + 4;

/** The segment version its first bytes name, or null when it is not a spool segment. */
export function segmentVersion(data: Buffer): SegmentVersion | null {
  if (data.length < SEGMENT_HEADER_BYTES) return null;
  const head = data.subarray(0, SEGMENT_HEADER_BYTES);
  if (head.equals(SEGMENT_MAGIC)) return 2;
  if (head.equals(MAGIC_V1)) return 1;
  return null;
}

function headerBytes(version: SegmentVersion): number {
  return version === 2 ? 12 : 8;
}

function payloadLength(record: Outbound): number {
  let length = 1 + 2 + Buffer.byteLength(record.topic) + 2 + Buffer.byteLength(record.key) + 1;
  for (const name in record.headers) {
    length += 2 + Buffer.byteLength(name) + 4 + Buffer.byteLength(record.headers[name] as string);
  }
  return length + 4 + record.value.length;
}

/** Bytes one record takes in a segment, frame header included. */
export function frameLength(record: Outbound): number {
  return FRAME_HEADER_BYTES + payloadLength(record);
}

function frameChecksum(frame: Buffer, start: number, end: number): number {
  // the sequence number (bytes 8..12) and the payload, which follow each other
  return crc32(frame.subarray(start + 8, end));
}

/**
 * Writes the frames of `records` into one buffer, numbered from `firstSeq`;
 * `lengths[i]` receives the frame length of record i.
 */
export function encodeFrames(records: readonly Outbound[], lengths: number[], firstSeq: number): Buffer {
  let total = 0;
  for (const record of records) {
    const length = frameLength(record);
    lengths.push(length);
    total += length;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i] as Outbound;
    const start = at;
    out.writeUInt32LE((firstSeq + i) >>> 0, start + 8);
    at += FRAME_HEADER_BYTES;
    out.writeUInt8(PAYLOAD_VERSION, at);
    at += 1;
    at = writeShortString(out, at, record.topic);
    at = writeShortString(out, at, record.key);
    const names = Object.keys(record.headers);
    out.writeUInt8(names.length, at);
    at += 1;
    for (const name of names) {
      at = writeShortString(out, at, name);
      const value = record.headers[name] as string;
      const length = out.write(value, at + 4);
      out.writeUInt32LE(length, at);
      at += 4 + length;
    }
    out.writeUInt32LE(record.value.length, at);
    record.value.copy(out, at + 4);
    at += 4 + record.value.length;
    out.writeUInt32LE(at - start - FRAME_HEADER_BYTES, start);
    out.writeUInt32LE(frameChecksum(out, start, at), start + 4);
  }
  return out;
}

/** A copy of version 2 `frames` numbered from 0 (frames encoded together, then split across segments). */
export function renumber(frames: Buffer, version: SegmentVersion): Buffer {
  const out = Buffer.from(frames);
  if (version !== 2) return out;
  let seq = 0;
  for (let at = 0; at < out.length; seq++) {
    const end = at + FRAME_HEADER_BYTES + out.readUInt32LE(at);
    out.writeUInt32LE(seq, at + 8);
    out.writeUInt32LE(frameChecksum(out, at, end), at + 4);
    at = end;
  }
  return out;
}

function writeShortString(out: Buffer, at: number, value: string): number {
  const length = out.write(value, at + 2);
  out.writeUInt16LE(length, at);
  return at + 2 + length;
}

/** The outcome of reading one frame at an offset. */
export type FrameRead =
  | {
      readonly kind: "record";
      readonly record: Outbound;
      readonly next: number;
      /** Sequence number within the segment; null in version 1 segments. */
      readonly seq: number | null;
    }
  /** The frame runs past the end of the data: a write cut short, or a damaged length. */
  | { readonly kind: "torn" }
  /** The checksum or the payload layout is wrong. */
  | { readonly kind: "corrupt"; readonly reason: string };

/** Reads the frame at `at` in `data` (which ends where the segment's data ends). Never throws. */
export function readFrame(data: Buffer, at: number, version: SegmentVersion): FrameRead {
  const header = headerBytes(version);
  if (at + header > data.length) return { kind: "torn" };
  const length = data.readUInt32LE(at);
  const end = at + header + length;
  if (end > data.length) return { kind: "torn" };
  if (length < MIN_PAYLOAD) return { kind: "corrupt", reason: "impossible frame length" };
  const expected = data.readUInt32LE(at + 4);
  const actual = version === 2 ? frameChecksum(data, at, end) : crc32(data.subarray(at + header, end));
  if (actual !== expected) return { kind: "corrupt", reason: "checksum mismatch" };
  const record = parsePayload(data.subarray(at + header, end));
  if (record === null) return { kind: "corrupt", reason: "bad payload layout" };
  return { kind: "record", record, next: end, seq: version === 2 ? data.readUInt32LE(at + 8) : null };
}

/**
 * The next offset after `from` where a valid frame starts (numbered after `afterSeq` in
 * version 2), or null when none does: how reading resynchronises after a frame whose
 * length itself is damaged. A CRC-32 match by chance is one in 2^32 per offset.
 */
export function resync(
  data: Buffer,
  from: number,
  version: SegmentVersion,
  afterSeq: number | null,
): number | null {
  for (let at = from; at + headerBytes(version) <= data.length; at++) {
    const length = data.readUInt32LE(at);
    if (length < MIN_PAYLOAD || at + headerBytes(version) + length > data.length) continue;
    const frame = readFrame(data, at, version);
    if (frame.kind !== "record") continue;
    if (afterSeq !== null && frame.seq !== null && frame.seq <= afterSeq) continue;
    return at;
  }
  return null;
}

function parsePayload(payload: Buffer): Outbound | null {
  try {
    if (payload.readUInt8(0) !== PAYLOAD_VERSION) return null;
    let at = 1;
    const topic = readShortString(payload, at);
    at = topic.next;
    const key = readShortString(payload, at);
    at = key.next;
    const headerCount = payload.readUInt8(at);
    at += 1;
    const headers: Record<string, string> = {};
    let size = key.value.length;
    for (let i = 0; i < headerCount; i++) {
      const name = readShortString(payload, at);
      const length = payload.readUInt32LE(name.next);
      const start = name.next + 4;
      if (start + length > payload.length) return null;
      const value = payload.toString("utf8", start, start + length);
      headers[name.value] = value;
      size += name.value.length + value.length;
      at = start + length;
    }
    const valueLength = payload.readUInt32LE(at);
    if (at + 4 + valueLength !== payload.length) return null;
    const value = Buffer.from(payload.subarray(at + 4));
    return {
      topic: topic.value,
      key: key.value,
      headers,
      value,
      size: size + value.length,
      partition: undefined,
    };
  } catch {
    return null;
  }
}

function readShortString(buf: Buffer, at: number): { value: string; next: number } {
  const length = buf.readUInt16LE(at);
  if (at + 2 + length > buf.length) throw new RangeError("string runs past the payload");
  return { value: buf.toString("utf8", at + 2, at + 2 + length), next: at + 2 + length };
}
