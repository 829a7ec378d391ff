import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import type { RecordInputOf, RecordOf, RecordType } from "../../src/index.js";

export const goldenDir = fileURLToPath(new URL("../fixtures/golden/", import.meta.url));
export const evolutionFixturesDir = fileURLToPath(new URL("../fixtures/evolution/", import.meta.url));
export const schemasDir = fileURLToPath(new URL("../../../../schemas/", import.meta.url));
export const packageDir = fileURLToPath(new URL("../../", import.meta.url));

export function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
}

export function goldenFiles(extension: ".bin" | ".json"): string[] {
  return readdirSync(goldenDir)
    .filter((file) => file.endsWith(extension))
    .sort();
}

/** Realistic records of the current schema versions: the newest golden JSON of each type. */
export const SAMPLES: { readonly [T in RecordType]: RecordOf<T> } = {
  execution: readJson(join(goldenDir, "execution.v2.json")) as unknown as RecordOf<"execution">,
  event: readJson(join(goldenDir, "event.v1.json")) as unknown as RecordOf<"event">,
  metrics: readJson(join(goldenDir, "metrics.v1.json")) as unknown as RecordOf<"metrics">,
  correlation: readJson(join(goldenDir, "correlation.v1.json")) as unknown as RecordOf<"correlation">,
  error: readJson(join(goldenDir, "error.v1.json")) as unknown as RecordOf<"error">,
  span: readJson(join(goldenDir, "span.v1.json")) as unknown as RecordOf<"span">,
};

const ENVELOPE = {
  event_id: "01933b7e-8f3a-7c2e-9b1d-4f6a2c8e5d10",
  event_time: 1732420365123456,
  trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
  span_id: "00f067aa0ba902b7",
} as const;

/** The smallest valid input of each type: every defaulted field left out. */
export const MINIMAL: { readonly [T in RecordType]: RecordInputOf<T> } = {
  execution: { ...ENVELOPE, lifecycle: "STARTED", status: "running" },
  event: { ...ENVELOPE, event_kind: "LLM_FIRST_TOKEN", name: "gpt-4o" },
  metrics: {
    ...ENVELOPE,
    initialization_ms: 1,
    tool_execution_ms: 2,
    llm_processing_ms: 3,
    websocket_notification_ms: 4,
    total_ms: 10,
  },
  correlation: {
    ...ENVELOPE,
    parent_execution_id: "exec-1",
    child_execution_id: "exec-2",
    child_span_id: "b7ad6b7169203331",
    relationship: "TOOL",
  },
  error: { ...ENVELOPE, error_class: "Error", message: "boom", retriable: false, severity: "FATAL" },
  span: {
    ...ENVELOPE,
    name: "llm call",
    kind: "INTERNAL",
    start_time: 1732420365000000,
    end_time: 1732420365123456,
    status_code: "UNSET",
  },
};
