/**
 * Avro single-object encode/decode vs JSON.stringify/JSON.parse of the same realistic
 * record, per record type. Prints a table; the last line is one JSON object.
 */
import { RECORD_TYPES, decodeRecord, encodeRecord } from "../src/index.js";
import type { RecordType } from "../src/index.js";
import { SAMPLES } from "../test/helpers/samples.js";

const ROUNDS = 7;
const ROUND_MS = 120;

let sink = 0;

/** Median over rounds of the mean ns per call within a round of about ROUND_MS. */
function measure(fn: () => number): number {
  let batch = 1;
  for (;;) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) sink += fn();
    if (Number(process.hrtime.bigint() - started) > 10e6) break;
    batch *= 2;
  }
  const perCall: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const iterations = Math.max(1, Math.round((batch * ROUND_MS) / 10));
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink += fn();
    perCall.push(Number(process.hrtime.bigint() - started) / iterations);
  }
  perCall.sort((a, b) => a - b);
  return perCall[Math.floor(ROUNDS / 2)]!;
}

interface Figures {
  readonly avro_encode_ns: number;
  readonly avro_decode_ns: number;
  readonly json_encode_ns: number;
  readonly json_decode_ns: number;
  readonly avro_bytes: number;
  readonly json_bytes: number;
}

function benchType(type: RecordType): Figures {
  const record = SAMPLES[type];
  const bytes = encodeRecord(type, record);
  const text = JSON.stringify(record);
  return {
    avro_encode_ns: measure(() => encodeRecord(type, record).length),
    avro_decode_ns: measure(() => decodeRecord(bytes).version),
    json_encode_ns: measure(() => JSON.stringify(record).length),
    json_decode_ns: measure(() => (JSON.parse(text) as { event_time: number }).event_time & 1),
    avro_bytes: bytes.length,
    json_bytes: Buffer.byteLength(text),
  };
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
const perType = Object.fromEntries(RECORD_TYPES.map((type) => [type, benchType(type)])) as Record<
  RecordType,
  Figures
>;

const header = [
  "record type",
  "avro enc ns",
  "avro dec ns",
  "json enc ns",
  "json dec ns",
  "avro B",
  "json B",
];
const rows = RECORD_TYPES.map((type) => {
  const f = perType[type];
  return [
    type,
    f.avro_encode_ns,
    f.avro_decode_ns,
    f.json_encode_ns,
    f.json_decode_ns,
    f.avro_bytes,
    f.json_bytes,
  ].map((cell) => (typeof cell === "number" ? String(Math.round(cell)) : cell));
});
const mean = (key: keyof Figures): number =>
  RECORD_TYPES.reduce((sum, t) => sum + perType[t][key], 0) / RECORD_TYPES.length;
const averages = {
  avro_encode_ns: round1(mean("avro_encode_ns")),
  avro_decode_ns: round1(mean("avro_decode_ns")),
  json_encode_ns: round1(mean("json_encode_ns")),
  json_decode_ns: round1(mean("json_decode_ns")),
};
rows.push([
  "average",
  ...Object.values(averages).map((n) => String(Math.round(n))),
  String(Math.round(mean("avro_bytes"))),
  String(Math.round(mean("json_bytes"))),
]);

const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
const line = (cells: readonly string[]): string =>
  cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
console.log("Avro single-object (validate + encode to Buffer / decode into current reader) vs JSON (string)");
console.log(line(header));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const row of rows) console.log(line(row));
if (sink === 0.5) console.log("unreachable");

console.log(
  JSON.stringify({
    ...averages,
    avro_bytes: round1(mean("avro_bytes")),
    json_bytes: round1(mean("json_bytes")),
    per_type: Object.fromEntries(
      RECORD_TYPES.map((type) => [
        type,
        Object.fromEntries(Object.entries(perType[type]).map(([key, value]) => [key, round1(value)])),
      ]),
    ),
  }),
);
