import { TraceContext, toKafkaHeaders } from "@tracehouse/context";
import {
  CONTENT_TYPE_HEADER,
  RECORD_TYPES,
  RecordType,
  contentTypeOf,
  createTopicCatalogue,
  encodeRecord,
  messageKeyOf,
  newEventId,
} from "@tracehouse/schemas";
import type { RecordOf, TracehouseRecord } from "@tracehouse/schemas";
import { Kafka, logLevel } from "kafkajs";
import type { Message } from "kafkajs";

export type TopicsByType = { readonly [T in RecordType]: string };

export interface TestRecord {
  readonly type: RecordType;
  readonly record: TracehouseRecord["record"];
  readonly context: TraceContext;
}

const BASE_MICROS = Date.UTC(2025, 0, 15, 12, 0, 0) * 1000;

/** A record of `type` in the trace of `context`, with every field set; `i` varies the values. */
export function sampleRecord<T extends RecordType>(type: T, context: TraceContext, i: number): RecordOf<T> {
  const envelope = {
    event_id: newEventId(),
    event_time: BASE_MICROS + i * 1000 + RECORD_TYPES.indexOf(type),
    trace_id: context.traceId,
    span_id: context.spanId,
    parent_span_id: context.parentSpanId ?? null,
    correlation_id: context.correlationId ?? null,
    user_id: context.userId ?? null,
    thread_id: context.threadId ?? null,
    execution_id: `exec-${i}`,
    agent_name: `agent-${i % 3}`,
    metadata: { run: String(i), region: "eu" },
  };
  const byType: { [K in RecordType]: RecordOf<K> } = {
    execution: {
      ...envelope,
      lifecycle: i % 2 === 0 ? "COMPLETED" : "FAILED",
      status: i % 2 === 0 ? "completed" : "failed",
      parent_execution_id: i % 4 === 0 ? null : `exec-parent-${i}`,
      input_summary: `input ${i}`,
      result_summary: i % 2 === 0 ? `result ${i}` : null,
      error_message: i % 2 === 0 ? null : `boom ${i}`,
      duration_ms: 100 + i / 4,
      retry_of_execution_id: null,
    },
    event: {
      ...envelope,
      event_kind: "TOOL_CALL_END",
      name: `tool-${i % 5}`,
      status: "ok",
      duration_ms: 12.5 + i,
      payload_bytes: 1000 + i,
      attributes: { tool: `tool-${i % 5}`, attempt: "1" },
    },
    metrics: {
      ...envelope,
      initialization_ms: 1.5,
      tool_execution_ms: 20 + i,
      llm_processing_ms: 300.25,
      websocket_notification_ms: 2,
      total_ms: 330 + i,
      time_to_first_token_ms: 80,
      queue_wait_ms: null,
      database_query_ms: 4,
      external_api_ms: null,
      websocket_latency_ms: 1.25,
      prompt_tokens: 1200 + i,
      completion_tokens: 300,
    },
    correlation: {
      ...envelope,
      parent_execution_id: `exec-${i}`,
      child_execution_id: `exec-child-${i}`,
      child_span_id: "00f067aa0ba902b7",
      child_agent_name: i % 2 === 0 ? "researcher" : null,
      relationship: "SUBAGENT",
    },
    error: {
      ...envelope,
      error_class: "ToolTimeout",
      message: `tool timed out after ${i} ms`,
      stack: "Error: timeout\n    at tool (tool.ts:1:1)",
      code: "ETIMEDOUT",
      retriable: i % 2 === 0,
      phase: "tool",
      severity: "ERROR",
    },
    span: {
      ...envelope,
      name: `span-${i}`,
      kind: "CLIENT",
      start_time: BASE_MICROS + i * 1000,
      end_time: BASE_MICROS + i * 1000 + 250,
      status_code: "OK",
      status_message: null,
      attributes: { "http.method": "GET" },
      events: [{ name: "retry", time: BASE_MICROS + i * 1000 + 100, attributes: { n: "1" } }],
      links: [{ trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", span_id: "00f067aa0ba902b7", attributes: {} }],
    },
  };
  return byType[type];
}

/** `perType` records of each type, each in its own trace (with user/correlation identity in baggage). */
export function recordsOfEveryType(perType: number, offset = 0): TestRecord[] {
  const out: TestRecord[] = [];
  for (let i = offset; i < offset + perType; i++) {
    for (const type of RECORD_TYPES) {
      const context = TraceContext.create({ userId: `user-${i % 7}`, correlationId: `corr-${i}` }).child();
      out.push({ type, record: sampleRecord(type, context, i), context });
    }
  }
  return out;
}

export function messageOf(item: TestRecord): Message {
  return {
    key: messageKeyOf(item.record),
    value: encodeRecord(item.type, item.record as never),
    headers: toKafkaHeaders(item.context, { [CONTENT_TYPE_HEADER]: contentTypeOf(item.type) }),
  };
}

/** Sends records to their type's topic (keyed by trace id, with trace and content-type headers). */
export async function produceRecords(
  kafka: Kafka,
  topics: TopicsByType,
  items: readonly TestRecord[],
): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const byTopic = new Map<string, Message[]>();
    for (const item of items) {
      const topic = topics[item.type];
      let list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, (list = []));
      list.push(messageOf(item));
    }
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  } finally {
    await producer.disconnect();
  }
}

/** Creates every catalogue topic under `prefix` (two partitions each) and sends `perType` records of each type to them. */
export async function seedCatalogueTopics(
  brokers: readonly string[],
  prefix: string,
  perType: number,
): Promise<void> {
  const catalogue = createTopicCatalogue({ prefix });
  const kafka = new Kafka({ clientId: "seed", brokers: [...brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: catalogue.all.map((spec) => ({ topic: spec.name, numPartitions: 2, replicationFactor: 1 })),
  });
  await admin.disconnect();
  const topics = Object.fromEntries(
    RECORD_TYPES.map((type) => [type, catalogue.topicFor(type)]),
  ) as TopicsByType;
  await produceRecords(kafka, topics, recordsOfEveryType(perType));
}

/** Sends raw messages to one topic, in order. */
export async function produceRaw(kafka: Kafka, topic: string, messages: readonly Message[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [...messages] });
  } finally {
    await producer.disconnect();
  }
}

export { RecordType };
