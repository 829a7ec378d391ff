import {
  fromKafkaHeaders,
  parseTraceparent,
  runWithContext,
  toKafkaHeaders,
  TraceContext,
  type TraceHeaders,
} from "../src/index.js";

interface Result {
  readonly name: string;
  readonly key: string;
  readonly nsPerOp: number;
}

let sink = 0;

/** Median ns/op over several rounds, after a warm-up. */
function measure(name: string, key: string, op: () => number, opsPerRound = 200_000, rounds = 9): Result {
  for (let i = 0; i < opsPerRound; i++) sink += op();
  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < opsPerRound; i++) sink += op();
    samples.push(Number(process.hrtime.bigint() - start) / opsPerRound);
  }
  samples.sort((a, b) => a - b);
  return { name, key, nsPerOp: samples[Math.floor(samples.length / 2)] as number };
}

const root = TraceContext.create({
  correlationId: "req-7f3a9c",
  userId: "user-42",
  threadId: "thread-1337",
  baggage: { tenant: "acme" },
  tracestate: ["th=1"],
});
const incoming = root.child().toHeaders();
const kafkaIncoming = toKafkaHeaders(root.child(), {
  "content-type": "application/vnd.tracehouse.event+avro",
});
const traceparent = incoming.traceparent;
// more distinct baggage values than the parse cache holds, so every call parses
const distinct = Array.from({ length: 4096 }, (_, i) =>
  root
    .with({ correlationId: `req-${i}` })
    .child()
    .toHeaders(),
);
let next = 0;
const noop = (): number => 1;

const results = [
  measure(
    "child() + toHeaders()",
    "context_child_headers_ns",
    () => root.child().toHeaders().traceparent.length,
  ),
  measure("TraceContext.create()", "context_create_ns", () => TraceContext.create().spanId.length),
  measure(
    "fromHeaders (traceparent + tracestate + baggage)",
    "context_from_headers_ns",
    () => TraceContext.fromHeaders(incoming).spanId.length,
  ),
  measure("fromHeaders, distinct baggage every call", "context_from_headers_uncached_ns", () => {
    next = (next + 1) & 4095;
    return TraceContext.fromHeaders(distinct[next] as TraceHeaders).spanId.length;
  }),
  measure(
    "fromKafkaHeaders (Buffer values)",
    "context_from_kafka_headers_ns",
    () => fromKafkaHeaders(kafkaIncoming).spanId.length,
  ),
  measure(
    "child() + toKafkaHeaders()",
    "context_to_kafka_headers_ns",
    () => Object.keys(toKafkaHeaders(root.child())).length,
  ),
  measure("runWithContext(ctx, fn)", "context_run_with_context_ns", () => runWithContext(root, noop)),
  measure(
    "parseTraceparent",
    "context_parse_traceparent_ns",
    () => parseTraceparent(traceparent)?.traceFlags ?? 0,
  ),
];

const nameWidth = Math.max(...results.map((r) => r.name.length));
console.log(`${"operation".padEnd(nameWidth)}  ns/op`);
console.log(`${"-".repeat(nameWidth)}  --------`);
for (const r of results) console.log(`${r.name.padEnd(nameWidth)}  ${r.nsPerOp.toFixed(1).padStart(8)}`);
console.log(`(node ${process.version}, median of 9 rounds x 200k ops; checksum ${sink % 997})`);
console.log(JSON.stringify(Object.fromEntries(results.map((r) => [r.key, Number(r.nsPerOp.toFixed(1))]))));
