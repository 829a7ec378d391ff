import type { ExecutionNode, StoredRecord, TraceView } from "./api.js";

export type RowKind = "execution" | "llm" | "tool" | "websocket" | "span" | "error" | "event";

/** One line of the waterfall: a bar (or a point) with the record behind it. */
export interface Row {
  readonly id: string;
  readonly kind: RowKind;
  readonly label: string;
  readonly depth: number;
  readonly startUs: number;
  readonly endUs: number | null;
  /** Time to first token, as a mark inside an LLM call's bar. */
  readonly markUs: number | null;
  readonly failed: boolean;
  readonly running: boolean;
  /** The execution row this row belongs to (for collapsing). */
  readonly parents: readonly string[];
  readonly node: ExecutionNode | null;
  readonly records: readonly StoredRecord[];
}

const str = (value: unknown): string => (value === null || value === undefined ? "" : String(value));
const numOr = (value: unknown, fallback: number): number => (typeof value === "number" ? value : fallback);

/** Pairs START/END events of the same name into calls; a start without an end is still running. */
function calls(node: ExecutionNode, depth: number, parents: string[], nowUs: number): Row[] {
  const rows: Row[] = [];
  const used = new Set<string>();
  const events = node.events;
  for (const start of events) {
    const kind = str(start["event_kind"]);
    if (kind !== "LLM_CALL_START" && kind !== "TOOL_CALL_START") continue;
    const endKind = kind === "LLM_CALL_START" ? "LLM_CALL_END" : "TOOL_CALL_END";
    const end = events.find(
      (e) =>
        !used.has(e.event_id) &&
        e["event_kind"] === endKind &&
        e["name"] === start["name"] &&
        e.event_time >= start.event_time,
    );
    if (end !== undefined) used.add(end.event_id);
    const first =
      kind === "LLM_CALL_START"
        ? events.find(
            (e) =>
              e["event_kind"] === "LLM_FIRST_TOKEN" &&
              e["name"] === start["name"] &&
              e.event_time >= start.event_time &&
              (end === undefined || e.event_time <= end.event_time),
          )
        : undefined;
    const llm = kind === "LLM_CALL_START";
    rows.push({
      id: start.event_id,
      kind: llm ? "llm" : "tool",
      label: `${llm ? "LLM" : "tool"} ${str(start["name"])}${end !== undefined && str(end["status"]) !== "ok" && end["status"] != null ? ` (${str(end["status"])})` : ""}`,
      depth,
      startUs: start.event_time,
      endUs: end?.event_time ?? null,
      markUs: first?.event_time ?? null,
      failed: end !== undefined && end["status"] != null && !["ok", "success"].includes(str(end["status"])),
      running: end === undefined && nowUs > 0,
      parents,
      node: null,
      records: [start, ...(first === undefined ? [] : [first]), ...(end === undefined ? [] : [end])],
    });
  }
  for (const event of events) {
    if (event["event_kind"] !== "WEBSOCKET_NOTIFICATION" && event["event_kind"] !== "CUSTOM") continue;
    const ms = typeof event["duration_ms"] === "number" ? event["duration_ms"] : 0;
    rows.push({
      id: event.event_id,
      kind: event["event_kind"] === "CUSTOM" ? "event" : "websocket",
      label: `${event["event_kind"] === "CUSTOM" ? "event" : "ws"} ${str(event["name"])}`,
      depth,
      startUs: event.event_time - ms * 1000,
      endUs: event.event_time,
      markUs: null,
      failed: false,
      running: false,
      parents,
      node: null,
      records: [event],
    });
  }
  for (const span of node.spans) {
    rows.push({
      id: span.event_id,
      kind: "span",
      label: `span ${str(span["name"])}`,
      depth,
      startUs: numOr(span["start_time"], span.event_time),
      endUs: numOr(span["end_time"], span.event_time),
      markUs: null,
      failed: span["status_code"] === "ERROR",
      running: false,
      parents,
      node: null,
      records: [span],
    });
  }
  for (const error of node.errors) {
    rows.push({
      id: error.event_id,
      kind: "error",
      label: `error ${str(error["error_class"])}`,
      depth,
      startUs: error.event_time,
      endUs: null,
      markUs: null,
      failed: error["severity"] !== "WARNING",
      running: false,
      parents,
      node: null,
      records: [error],
    });
  }
  return rows.sort((a, b) => a.startUs - b.startUs);
}

/** The waterfall's rows: each execution, then its calls and its sub-agents, depth-first. */
export function waterfallRows(trace: TraceView, nowUs: number): Row[] {
  const rows: Row[] = [];
  const visit = (node: ExecutionNode, depth: number, parents: string[]): void => {
    const start = node.startedAtUs ?? trace.summary.startTimeUs;
    const running = node.lifecycle !== null && node.lifecycle !== "COMPLETED" && node.lifecycle !== "FAILED";
    rows.push({
      id: node.executionId,
      kind: "execution",
      label: `${node.agentName ?? "(unnamed agent)"}${node.relationship !== null ? ` · ${node.relationship}` : ""}`,
      depth,
      startUs: start,
      endUs: node.endedAtUs ?? (node.durationMs !== null ? start + node.durationMs * 1000 : null),
      markUs: null,
      failed: node.lifecycle === "FAILED",
      running,
      parents,
      node,
      records: [],
    });
    const inner = [...parents, node.executionId];
    const children: { startUs: number; add: () => void }[] = [
      ...calls(node, depth + 1, inner, nowUs).map((row) => ({
        startUs: row.startUs,
        add: () => rows.push(row),
      })),
      ...node.children.map((child) => ({
        startUs: child.startedAtUs ?? start,
        add: () => visit(child, depth + 1, inner),
      })),
    ];
    children.sort((a, b) => a.startUs - b.startUs).forEach((child) => child.add());
  };
  trace.roots.forEach((root) => visit(root, 0, []));
  const loose = { ...trace.unattached };
  if (loose.events.length + loose.spans.length + loose.errors.length > 0) {
    const node = {
      ...trace.roots[0]!,
      executionId: "(unattached)",
      events: loose.events,
      spans: loose.spans,
      errors: loose.errors,
      metrics: loose.metrics,
      children: [],
    };
    rows.push(...calls(node as ExecutionNode, 0, [], nowUs));
  }
  return rows;
}
