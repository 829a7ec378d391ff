import { crc32 } from "node:zlib";
import type { Outbound } from "./outbound.js";

/** Every segment file starts with these 8 bytes: "THSP", then the format version. */
export const SEGMENT_MAGIC = Buffer.from([0x54, 0x48, 0x53, 0x50, 0x00, 0x00, 0x00, 0x01]);
/** u32 payload length + u32 CRC-32 of the payload. */
export const FRAME_HEADER_BYTES = 8;
const PAYLOAD_VERSION = 1;

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

/** Writes the frames of `records` into one buffer; `lengths[i]` receives the frame length of record i. */
export function encodeFrames(records: readonly Outbound[], lengths: number[]): Buffer {
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
    const payloadBytes = at - start - FRAME_HEADER_BYTES;
    out.writeUInt32LE(payloadBytes, start);
    out.writeUInt32LE(crc32(out.subarray(start + FRAME_HEADER_BYTES, at)), start + 4);
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
  | { readonly kind: "record"; readonly record: Outbound; readonly next: number }
  /** The frame runs past the end of the data: a write cut short. */
  | { readonly kind: "torn" }
  /** The checksum or the payload layout is wrong. */
  | { readonly kind: "corrupt"; readonly reason: string };

/** Reads the frame at `at` in `data` (which ends where the segment's data ends). Never throws. */
export function readFrame(data: Buffer, at: number): FrameRead {
  if (at + FRAME_HEADER_BYTES > data.length) return { kind: "torn" };
  const length = data.readUInt32LE(at);
  const end = at + FRAME_HEADER_BYTES + length;
  if (end > data.length) return { kind: "torn" };
  const payload = data.subarray(at + FRAME_HEADER_BYTES, end);
  if (crc32(payload) !== data.readUInt32LE(at + 4)) return { kind: "corrupt", reason: "checksum mismatch" };
  const record = parsePayload(payload);
  if (record === null) return { kind: "corrupt", reason: "bad payload layout" };
  return { kind: "record", record, next: end };
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
    return { topic: topic.value, key: key.value, headers, value, size: size + value.length };
  } catch {
    return null;
  }
}

function readShortString(buf: Buffer, at: number): { value: string; next: number } {
  const length = buf.readUInt16LE(at);
  if (at + 2 + length > buf.length) throw new RangeError("string runs past the payload");
  return { value: buf.toString("utf8", at + 2, at + 2 + length), next: at + 2 + length };
}
