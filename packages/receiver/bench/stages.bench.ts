// CPU microseconds per span of the receiver's own stages, without Kafka or HTTP: protobuf
// decode, mapping, Avro encoding of the records (what `producer.emit` does with them).
// For quick A/B runs on a busy machine: CPU time, best of several rounds. The last line is JSON.
import { encodeRecord } from "@tracehouse/schemas";
import { decodeExport } from "../src/internal/handle-export.js";
import { mapSpans } from "../src/internal/map-spans.js";
import { SpanDirectory } from "../src/internal/SpanDirectory.js";
import { cpuMicros } from "../src/internal/StageClock.js";
import { exportBody } from "./otlp-bodies.js";

const SPANS_PER_REQUEST = 512;
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 7);
const REQUESTS_PER_ROUND = Number(process.env["BENCH_REQUESTS"] ?? 200);

const bodies = Array.from({ length: 64 }, () => exportBody(SPANS_PER_REQUEST));
const directory = new SpanDirectory(200_000);
const best = { decode: Infinity, map: Infinity, encode: Infinity };
for (let round = 0; round < ROUNDS; round++) {
  let decode = 0;
  let map = 0;
  let encode = 0;
  let spans = 0;
  for (let i = 0; i < REQUESTS_PER_ROUND; i++) {
    const t0 = cpuMicros();
    const request = decodeExport(bodies[i % bodies.length] as Buffer, "protobuf", 100_000);
    const t1 = cpuMicros();
    const mapped = mapSpans(request.groups, directory);
    const t2 = cpuMicros();
    for (const records of mapped)
      for (const record of records) encodeRecord(record.type, record.fields as never);
    const t3 = cpuMicros();
    decode += t1 - t0;
    map += t2 - t1;
    encode += t3 - t2;
    spans += request.spanCount;
  }
  best.decode = Math.min(best.decode, decode / spans);
  best.map = Math.min(best.map, map / spans);
  best.encode = Math.min(best.encode, encode / spans);
}
const result = {
  decode_cpu_us_per_span: Number(best.decode.toFixed(2)),
  map_cpu_us_per_span: Number(best.map.toFixed(2)),
  encode_cpu_us_per_span: Number(best.encode.toFixed(2)),
  spans_per_s_per_core: Math.round(1e6 / (best.decode + best.map + best.encode)),
};
console.log(JSON.stringify(result));
