import { exportOf, PayloadError } from "./decode-common.js";
import type { Ingest, IngestResult } from "./Ingest.js";
import type { OtlpExport } from "./model.js";
import { decodeExportRequest } from "./otlp-proto.js";
import { cpuMicros } from "./StageClock.js";

/** The payload could not be read: 400 / INVALID_ARGUMENT with this message. */
export class BadPayloadError extends Error {
  override readonly name = "BadPayloadError";
}

/** OTLP request bytes (protobuf or JSON) → decoded export; BadPayloadError when malformed. */
export function decodeExport(body: Buffer, format: "protobuf" | "json", maxSpans: number): OtlpExport {
  let request: unknown;
  try {
    request = format === "protobuf" ? decodeExportRequest(body) : JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new BadPayloadError(
      `cannot decode the ${format} ExportTraceServiceRequest: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  try {
    return exportOf(request, maxSpans);
  } catch (error) {
    if (error instanceof PayloadError || error instanceof RangeError)
      throw new BadPayloadError(error.message);
    throw error;
  }
}

/** Decodes and ingests one request. */
export async function handleExport(
  ingest: Ingest,
  body: Buffer,
  format: "protobuf" | "json",
  maxSpans: number,
): Promise<IngestResult> {
  const started = cpuMicros();
  const request = decodeExport(body, format, maxSpans);
  ingest.clock.decoded(started, request.spanCount);
  return ingest.export(request);
}

/** The partial_success of a response, or null when every span was taken. */
export function partialSuccessOf(
  result: IngestResult,
): { rejectedSpans: number; errorMessage: string } | null {
  if (result.rejected === 0) return null;
  return {
    rejectedSpans: result.rejected,
    errorMessage: result.rejectReason ?? `${result.rejected} spans rejected`,
  };
}
