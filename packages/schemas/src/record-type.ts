/** The six record families of tracehouse. Each has its own Avro schema and topic. */
export const RecordType = {
  Execution: "execution",
  Event: "event",
  Metrics: "metrics",
  Correlation: "correlation",
  Error: "error",
  Span: "span",
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

export const RECORD_TYPES: readonly RecordType[] = Object.freeze(Object.values(RecordType));

const RECORD_TYPE_SET: ReadonlySet<string> = new Set(RECORD_TYPES);

export function isRecordType(value: unknown): value is RecordType {
  return typeof value === "string" && RECORD_TYPE_SET.has(value);
}
