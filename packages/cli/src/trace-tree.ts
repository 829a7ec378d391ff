import type { ExecutionNode, StoredRecord, TraceRecords, TraceTree } from "@tracehouse/clickhouse";
import { escapeControl } from "./terminal-text.js";
import { formatCost } from "./prices.js";

/** `0.42 ms`, `120 ms`, `1.23 s`, `2 min 05 s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "?";
  const abs = Math.abs(ms);
  if (abs < 1) return ms === 0 ? "0 ms" : `${ms.toFixed(2)} ms`;
  if (abs < 1000) return `${Math.round(ms)} ms`;
  if (abs < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${String(Math.round((ms - minutes * 60_000) / 1000)).padStart(2, "0")} s`;
}

function formatTime(micros: number): string {
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)} UTC`;
}

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function oneLine(value: string, max = 100): string {
  const flat = value.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

interface Line {
  readonly timeUs: number;
  readonly label: string;
  readonly detail: readonly string[];
  readonly nested: readonly Line[];
}

const METRIC_PARTS = [
  ["initialization_ms", "init"],
  ["tool_execution_ms", "tools"],
  ["llm_processing_ms", "llm"],
  ["websocket_notification_ms", "ws"],
  ["time_to_first_token_ms", "ttft"],
  ["queue_wait_ms", "queue"],
  ["database_query_ms", "db"],
  ["external_api_ms", "api"],
] as const;

function eventLine(record: StoredRecord): Line {
  const parts = [String(record.event_kind ?? "EVENT"), String(record.name ?? "")];
  const status = text(record.status);
  if (status !== null) parts.push(status);
  const duration = num(record.duration_ms);
  if (duration !== null) parts.push(formatDuration(duration));
  return { timeUs: record.event_time, label: `event    ${parts.join(" ")}`, detail: [], nested: [] };
}

function errorLine(record: StoredRecord): Line {
  const where = text(record.phase) === null ? "" : ` in ${String(record.phase)}`;
  const code = text(record.code) === null ? "" : ` (${String(record.code)})`;
  const retriable = record.retriable === true ? ", retriable" : "";
  return {
    timeUs: record.event_time,
    label: `error    ✗ ${String(record.error_class)}${code}: ${oneLine(String(record.message ?? ""))} [${String(record.severity)}${retriable}]${where}`,
    detail: [],
    nested: [],
  };
}

function metricsLine(record: StoredRecord): Line {
  const parts = [`total ${formatDuration(num(record.total_ms) ?? NaN)}`];
  for (const [field, label] of METRIC_PARTS) {
    const value = num(record[field]);
    if (value !== null) parts.push(`${label} ${formatDuration(value)}`);
  }
  const prompt = num(record.prompt_tokens);
  const completion = num(record.completion_tokens);
  if (prompt !== null || completion !== null) parts.push(`tokens ${prompt ?? "?"}→${completion ?? "?"}`);
  return { timeUs: record.event_time, label: `metrics  ${parts.join(" · ")}`, detail: [], nested: [] };
}

function spanLine(record: StoredRecord): Line {
  const start = num(record.start_time) ?? record.event_time;
  const end = num(record.end_time) ?? start;
  const status = String(record.status_code ?? "UNSET");
  const message = text(record.status_message);
  return {
    timeUs: start,
    label: `span     ${String(record.name)} ${String(record.kind)} ${formatDuration((end - start) / 1000)}${status === "UNSET" ? "" : ` ${status}`}${message === null ? "" : `: ${oneLine(message)}`}`,
    detail: [],
    nested: [],
  };
}

function recordLines(records: TraceRecords): Line[] {
  return [
    ...records.events.map(eventLine),
    ...records.errors.map(errorLine),
    ...records.metrics.map(metricsLine),
    ...records.spans.map(spanLine),
  ];
}

function executionLine(node: ExecutionNode, fallbackUs: number): Line {
  const parts = [node.agentName ?? "(unnamed agent)", node.executionId];
  if (node.relationship !== null) parts.push(node.relationship);
  if (node.lifecycle !== null) parts.push(node.lifecycle);
  if (node.status !== null && node.status.toUpperCase() !== node.lifecycle) parts.push(node.status);
  const duration =
    node.durationMs ??
    (node.startedAtUs !== null && node.endedAtUs !== null
      ? (node.endedAtUs - node.startedAtUs) / 1000
      : null);
  if (duration !== null) parts.push(formatDuration(duration));
  const detail: string[] = [];
  if (node.inputSummary !== null) detail.push(`input: ${oneLine(node.inputSummary)}`);
  if (node.resultSummary !== null) detail.push(`result: ${oneLine(node.resultSummary)}`);
  if (node.errorMessage !== null) detail.push(`error: ${oneLine(node.errorMessage)}`);
  const cost = formatCost(node.cost);
  if (cost !== null) detail.push(cost);
  const failed = node.lifecycle === "FAILED" ? "✗ " : "● ";
  const timeUs = node.startedAtUs ?? fallbackUs;
  const nested = [...recordLines(node), ...node.children.map((child) => executionLine(child, timeUs))];
  return { timeUs, label: `${failed}${parts.join("  ")}`, detail, nested: byTime(nested) };
}

function byTime(lines: Line[]): Line[] {
  return lines.sort((a, b) => a.timeUs - b.timeUs);
}

function render(lines: readonly Line[], prefix: string, traceStartUs: number, out: string[]): void {
  lines.forEach((line, index) => {
    const last = index === lines.length - 1;
    const offset = `+${formatDuration((line.timeUs - traceStartUs) / 1000)}`.padEnd(10);
    out.push(`${prefix}${last ? "└─ " : "├─ "}${offset} ${line.label}`);
    const inner = `${prefix}${last ? "   " : "│  "}`;
    const bar = line.nested.length > 0 ? "│" : " ";
    for (const detail of line.detail) out.push(`${inner}${bar}${" ".repeat(11)}${detail}`);
    render(line.nested, inner, traceStartUs, out);
  });
}

/** The execution tree of a trace as terminal text: executions nested by parent, with their events, errors, metrics and spans in time order. */
export function renderTraceTree(tree: TraceTree): string {
  const { summary } = tree;
  const out: string[] = [];
  out.push(`trace ${summary.traceId}${summary.hasError ? "  ✗ has errors" : ""}`);
  const facts = [
    `${formatTime(summary.startTimeUs)}`,
    formatDuration(summary.durationMs),
    `${summary.executionCount} executions`,
    `${summary.eventCount} events`,
    `${summary.errorCount} errors`,
    `${summary.spanCount} spans`,
  ];
  if (summary.rootAgent !== null) facts.push(`root agent ${summary.rootAgent}`);
  if (summary.userId !== null) facts.push(`user ${summary.userId}`);
  out.push(facts.join(" · "));
  const cost = formatCost(tree.cost);
  if (cost !== null) out.push(cost);
  const top = tree.roots.map((root) => executionLine(root, summary.startTimeUs));
  const unattached = byTime(recordLines(tree.unattached));
  if (unattached.length > 0) {
    top.push({
      timeUs: unattached[0]!.timeUs,
      label: "(outside any known execution)",
      detail: [],
      nested: unattached,
    });
  }
  render(byTime(top), "", summary.startTimeUs, out);
  return out.map(escapeControl).join("\n") + "\n";
}
