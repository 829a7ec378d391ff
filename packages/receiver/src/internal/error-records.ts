import { ErrorSeverity, RecordType } from "@tracehouse/schemas";
import type { EmitFields } from "@tracehouse/producer";
import { RecordSlot, spanEventId } from "./ids.js";
import type { MappedRecord } from "./map-spans.js";
import type { OtlpSpan } from "./model.js";
import { GenAiOperation, LLM_OPERATIONS } from "./operations.js";

const MAX_EXCEPTIONS = 32;

function phaseOf(operation: string): string {
  if (operation === GenAiOperation.ExecuteTool) return "tool_execution";
  if (LLM_OPERATIONS.has(operation)) return "llm_processing";
  return operation;
}

/** Error records of a GenAI span: one per exception event, else one from an ERROR status. */
export function errorRecords(
  span: OtlpSpan,
  envelope: Record<string, unknown> & { trace_id: string; span_id: string },
  operation: string,
  agent: boolean,
  failed: boolean,
  errorText: string | null,
): MappedRecord[] {
  const records: MappedRecord[] = [];
  const severity = failed ? (agent ? ErrorSeverity.Fatal : ErrorSeverity.Error) : ErrorSeverity.Warning;
  const phase = phaseOf(operation);
  let index = 0;
  for (const event of span.events) {
    if (event.name !== "exception" || index >= MAX_EXCEPTIONS) continue;
    const attributes = event.attributes;
    records.push({
      type: RecordType.Error,
      fields: Object.assign({}, envelope as EmitFields<typeof RecordType.Error>, {
        event_id: spanEventId(span.traceId, span.spanId, RecordSlot.ExceptionBase + index, event.timeUs),
        event_time: event.timeUs,
        error_class: attributes["exception.type"] || span.attributes["error.type"] || "Error",
        message: attributes["exception.message"] ?? errorText ?? "",
        stack: attributes["exception.stacktrace"] ?? null,
        code: span.attributes["error.type"] ?? null,
        retriable: false,
        phase,
        severity,
      }),
    });
    index += 1;
  }
  if (failed && index === 0) {
    records.push({
      type: RecordType.Error,
      fields: Object.assign({}, envelope as EmitFields<typeof RecordType.Error>, {
        event_id: spanEventId(span.traceId, span.spanId, RecordSlot.StatusError, span.endUs),
        event_time: span.endUs,
        error_class: span.attributes["error.type"] || "Error",
        message: errorText ?? "span ended with status ERROR",
        code: span.attributes["error.type"] ?? null,
        retriable: false,
        phase,
        severity,
      }),
    });
  }
  return records;
}
