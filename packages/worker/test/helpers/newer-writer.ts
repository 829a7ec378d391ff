import { TraceContext } from "@tracehouse/context";
import { RecordType, avroSchemaOf, encodeRecord, fingerprintOfSchema } from "@tracehouse/schemas";
import type { Message } from "kafkajs";
import { messageOf, sampleRecord } from "./records.js";

type Schema = { fields: { name: string; type: unknown; default?: unknown }[] };

/** A newer execution schema than this worker ships: the current one plus an optional field. */
export function newerExecutionSchema(field: string): { json: string; fingerprint: string } {
  const schema = structuredClone(avroSchemaOf(RecordType.Execution)) as Schema;
  schema.fields.push({ name: field, type: ["null", "double"], default: null });
  const json = JSON.stringify(schema);
  return { json, fingerprint: fingerprintOfSchema(json) };
}

/**
 * A record as the newer writer encodes it: its fingerprint, the current body (the fields are the
 * same up to the new one, which comes last), then the new field's union branch 1 and its double.
 */
export function newerExecution(fingerprint: string, i: number): { message: Message; eventId: string } {
  const context = TraceContext.create().child();
  const record = sampleRecord(RecordType.Execution, context, i);
  const current = encodeRecord(RecordType.Execution, record);
  const extra = Buffer.alloc(9);
  extra[0] = 0x02;
  extra.writeDoubleLE(0.25 * i, 1);
  const value = Buffer.concat([
    current.subarray(0, 2),
    Buffer.from(fingerprint, "hex"),
    current.subarray(10),
    extra,
  ]);
  const message = messageOf({ type: RecordType.Execution, record, context });
  return { message: { ...message, value }, eventId: record.event_id };
}
