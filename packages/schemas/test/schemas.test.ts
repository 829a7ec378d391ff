import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import {
  AgentEventKind,
  CorrelationRelationship,
  EMPTY_METRICS,
  ENVELOPE_FIELDS,
  ErrorSeverity,
  ExecutionLifecycle,
  RECORD_TYPES,
  SpanKind,
  SpanStatusCode,
  avroSchemaOf,
  currentSchemaVersion,
  isRecordType,
  recordFields,
} from "../src/index.js";
import type {
  DefaultedKeys,
  Envelope,
  RecordField,
  RecordInputOf,
  RecordOf,
  SpanEvent,
  SpanLink,
  RecordType,
} from "../src/index.js";
import { describeField } from "../src/schema-info.js";
import type { FieldSchema } from "../src/schema-info.js";
import { SCHEMA_FILES } from "../src/internal/schemas.generated.js";
import { schemasDir } from "./helpers/samples.js";

/** How a TypeScript property type looks from the schema's side. */
type Kind<V> = [V] extends [boolean]
  ? "boolean"
  : [V] extends [number]
    ? "number"
    : [V] extends [string]
      ? string extends V
        ? "string"
        : "enum"
      : [V] extends [readonly unknown[]]
        ? "array"
        : "map";

/** Every property of R with its kind and nullability; the compiler checks the literals below against the interfaces. */
type Shape<R> = {
  readonly [K in keyof R]-?: readonly [Kind<NonNullable<R[K]>>, null extends R[K] ? "nullable" : "required"];
};

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_proof: T): void {}

const ENVELOPE_SHAPE: Shape<Envelope> = {
  event_id: ["string", "required"],
  event_time: ["number", "required"],
  trace_id: ["string", "required"],
  span_id: ["string", "required"],
  parent_span_id: ["string", "nullable"],
  correlation_id: ["string", "nullable"],
  user_id: ["string", "nullable"],
  thread_id: ["string", "nullable"],
  execution_id: ["string", "nullable"],
  agent_name: ["string", "nullable"],
  metadata: ["map", "required"],
};

const SHAPES: { readonly [T in RecordType]: Shape<RecordOf<T>> } = {
  execution: {
    ...ENVELOPE_SHAPE,
    lifecycle: ["enum", "required"],
    status: ["string", "required"],
    parent_execution_id: ["string", "nullable"],
    input_summary: ["string", "nullable"],
    result_summary: ["string", "nullable"],
    error_message: ["string", "nullable"],
    duration_ms: ["number", "nullable"],
    retry_of_execution_id: ["string", "nullable"],
  },
  event: {
    ...ENVELOPE_SHAPE,
    event_kind: ["enum", "required"],
    name: ["string", "required"],
    status: ["string", "nullable"],
    duration_ms: ["number", "nullable"],
    payload_bytes: ["number", "nullable"],
    attributes: ["map", "required"],
  },
  metrics: {
    ...ENVELOPE_SHAPE,
    initialization_ms: ["number", "required"],
    tool_execution_ms: ["number", "required"],
    llm_processing_ms: ["number", "required"],
    websocket_notification_ms: ["number", "required"],
    total_ms: ["number", "required"],
    time_to_first_token_ms: ["number", "nullable"],
    queue_wait_ms: ["number", "nullable"],
    database_query_ms: ["number", "nullable"],
    external_api_ms: ["number", "nullable"],
    websocket_latency_ms: ["number", "nullable"],
    prompt_tokens: ["number", "nullable"],
    completion_tokens: ["number", "nullable"],
  },
  correlation: {
    ...ENVELOPE_SHAPE,
    parent_execution_id: ["string", "required"],
    child_execution_id: ["string", "required"],
    child_span_id: ["string", "required"],
    child_agent_name: ["string", "nullable"],
    relationship: ["enum", "required"],
  },
  error: {
    ...ENVELOPE_SHAPE,
    error_class: ["string", "required"],
    message: ["string", "required"],
    stack: ["string", "nullable"],
    code: ["string", "nullable"],
    retriable: ["boolean", "required"],
    phase: ["string", "nullable"],
    severity: ["enum", "required"],
  },
  span: {
    ...ENVELOPE_SHAPE,
    name: ["string", "required"],
    kind: ["enum", "required"],
    start_time: ["number", "required"],
    end_time: ["number", "required"],
    status_code: ["enum", "required"],
    status_message: ["string", "nullable"],
    attributes: ["map", "required"],
    events: ["array", "required"],
    links: ["array", "required"],
  },
};

const SPAN_EVENT_SHAPE: Shape<SpanEvent> = {
  name: ["string", "required"],
  time: ["number", "required"],
  attributes: ["map", "required"],
};

const SPAN_LINK_SHAPE: Shape<SpanLink> = {
  trace_id: ["string", "required"],
  span_id: ["string", "required"],
  attributes: ["map", "required"],
};

const ENUMS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "execution.lifecycle": ExecutionLifecycle,
  "event.event_kind": AgentEventKind,
  "correlation.relationship": CorrelationRelationship,
  "error.severity": ErrorSeverity,
  "span.kind": SpanKind,
  "span.status_code": SpanStatusCode,
};

const NUMBER_KINDS: ReadonlySet<string> = new Set(["int", "long", "float", "double"]);

function shapeOf(field: RecordField): readonly [string, string] {
  return [NUMBER_KINDS.has(field.kind) ? "number" : field.kind, field.nullable ? "nullable" : "required"];
}

function nestedFields(type: RecordType, field: string): RecordField[] {
  const schema = avroSchemaOf(type) as { fields: FieldSchema[] };
  const array = schema.fields.find((f) => f.name === field)!.type as { items: { fields: FieldSchema[] } };
  return array.items.fields.map(describeField);
}

describe("schemas", () => {
  it("embeds every schemas/*.avsc file byte for byte", () => {
    const onDisk = readdirSync(schemasDir)
      .filter((file) => file.endsWith(".avsc"))
      .sort()
      .map((file) => ({ file, source: readFileSync(join(schemasDir, file), "utf8") }));
    expect(SCHEMA_FILES.map((f) => f.file)).to.deep.equal(onDisk.map((f) => f.file));
    for (const [i, file] of onDisk.entries()) {
      expect(SCHEMA_FILES[i]!.source === file.source, `${file.file} differs: run npm run generate`).to.equal(
        true,
      );
    }
  });

  it("has one schema family per record type", () => {
    expect(RECORD_TYPES).to.deep.equal(["execution", "event", "metrics", "correlation", "error", "span"]);
    expect(RECORD_TYPES.every(isRecordType)).to.equal(true);
    expect(isRecordType("spans")).to.equal(false);
    expect(isRecordType(undefined)).to.equal(false);
    for (const type of RECORD_TYPES) expect(currentSchemaVersion(type)).to.be.greaterThan(0);
  });

  for (const type of RECORD_TYPES) {
    it(`${type}: the TypeScript interface matches the schema field for field`, () => {
      const fields = recordFields(type);
      expect(fields.map((f) => f.name)).to.deep.equal(Object.keys(SHAPES[type]));
      const shapes = SHAPES[type] as Readonly<Record<string, readonly [string, string]>>;
      for (const field of fields) expect(shapeOf(field), field.name).to.deep.equal(shapes[field.name]);
    });

    it(`${type}: fields may be omitted exactly when the schema has a default`, () => {
      for (const field of recordFields(type)) {
        const defaulted = field.nullable || field.kind === "map" || field.kind === "array";
        expect(field.hasDefault, field.name).to.equal(defaulted);
      }
    });

    it(`${type}: starts with the envelope`, () => {
      const names = recordFields(type).map((f) => f.name);
      expect(names.slice(0, ENVELOPE_FIELDS.length)).to.deep.equal([...ENVELOPE_FIELDS]);
      expect(Object.keys(ENVELOPE_SHAPE)).to.deep.equal([...ENVELOPE_FIELDS]);
    });
  }

  it("span events and links match their interfaces", () => {
    const events = nestedFields("span", "events");
    expect(events.map((f) => f.name)).to.deep.equal(Object.keys(SPAN_EVENT_SHAPE));
    for (const f of events)
      expect(shapeOf(f)).to.deep.equal((SPAN_EVENT_SHAPE as Record<string, unknown>)[f.name]);
    const links = nestedFields("span", "links");
    expect(links.map((f) => f.name)).to.deep.equal(Object.keys(SPAN_LINK_SHAPE));
    for (const f of links)
      expect(shapeOf(f)).to.deep.equal((SPAN_LINK_SHAPE as Record<string, unknown>)[f.name]);
  });

  it("enum constants list exactly the schema symbols, in order", () => {
    const enumFields = RECORD_TYPES.flatMap((type) =>
      recordFields(type)
        .filter((field) => field.kind === "enum")
        .map((field) => [`${type}.${field.name}`, field.symbols] as const),
    );
    expect(enumFields.map(([key]) => key).sort()).to.deep.equal(Object.keys(ENUMS).sort());
    for (const [key, symbols] of enumFields) expect(Object.values(ENUMS[key]!), key).to.deep.equal(symbols);
  });

  it("marks every timestamp as timestamp-micros", () => {
    const timestamps = RECORD_TYPES.flatMap((type) =>
      recordFields(type)
        .filter((field) => field.logicalType === "timestamp-micros")
        .map((field) => `${type}.${field.name}`),
    );
    expect(timestamps).to.include.members(["span.start_time", "span.end_time"]);
    expect(timestamps.filter((name) => name.endsWith(".event_time"))).to.have.length(RECORD_TYPES.length);
  });

  it("EMPTY_METRICS holds every field a metrics record adds to the envelope: the nullable ones null, the rest zero", () => {
    const own = recordFields("metrics").slice(ENVELOPE_FIELDS.length);
    expect(Object.keys(EMPTY_METRICS)).to.deep.equal(own.map((field) => field.name));
    for (const field of own) {
      const value = (EMPTY_METRICS as Readonly<Record<string, unknown>>)[field.name];
      expect(value, field.name).to.equal(field.nullable ? null : 0);
    }
    expect(Object.isFrozen(EMPTY_METRICS)).to.equal(true);
  });

  it("makes exactly the defaulted fields optional in RecordInput", () => {
    const spanDefaulted = [
      "parent_span_id",
      "correlation_id",
      "user_id",
      "thread_id",
      "execution_id",
      "agent_name",
      "metadata",
      "status_message",
      "attributes",
      "events",
      "links",
    ] as const;
    assertType<Equal<(typeof spanDefaulted)[number], DefaultedKeys<RecordOf<"span">>>>(true);
    assertType<Equal<RecordInputOf<"error">["retriable"], boolean>>(true);
    assertType<Equal<RecordInputOf<"error">["stack"], string | null | undefined>>(true);
    const fromSchema = recordFields("span")
      .filter((field) => field.hasDefault)
      .map((field) => field.name);
    expect(fromSchema).to.deep.equal([...spanDefaulted]);
  });
});
