import { num, numOrNull, strOrNull } from "./sql.js";
import { EMPTY_COST } from "./usage.js";
import type { CostSummary } from "./usage.js";

/**
 * A record as stored, read back: contract field names, times as epoch microseconds, '' ids as null,
 * span events' `time` as epoch microseconds.
 */
export interface StoredRecord {
  readonly event_id: string;
  readonly event_time: number;
  readonly trace_id: string;
  readonly span_id: string;
  readonly parent_span_id: string | null;
  readonly correlation_id: string | null;
  readonly user_id: string | null;
  readonly thread_id: string | null;
  readonly execution_id: string | null;
  readonly agent_name: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly [field: string]: unknown;
}

export interface TraceRecords {
  readonly events: readonly StoredRecord[];
  readonly metrics: readonly StoredRecord[];
  readonly errors: readonly StoredRecord[];
  readonly spans: readonly StoredRecord[];
}

export interface ExecutionNode extends TraceRecords {
  readonly executionId: string;
  readonly agentName: string | null;
  readonly parentExecutionId: string | null;
  /** How the parent started it (SUBAGENT, TOOL, HANDOFF …), from trace_correlations. */
  readonly relationship: string | null;
  /** Latest lifecycle (STARTED, UPDATED, COMPLETED, FAILED); null if only a correlation names it. */
  readonly lifecycle: string | null;
  readonly status: string | null;
  readonly startedAtUs: number | null;
  readonly endedAtUs: number | null;
  readonly durationMs: number | null;
  readonly userId: string | null;
  readonly threadId: string | null;
  readonly spanId: string | null;
  readonly inputSummary: string | null;
  readonly resultSummary: string | null;
  readonly errorMessage: string | null;
  /** This execution's own tokens and cost (not its sub-agents'). */
  readonly cost: CostSummary;
  readonly children: readonly ExecutionNode[];
}

export interface TraceSummary {
  readonly traceId: string;
  readonly startTimeUs: number;
  readonly endTimeUs: number;
  readonly durationMs: number;
  readonly rootAgent: string | null;
  readonly userId: string | null;
  readonly hasError: boolean;
  readonly executionCount: number;
  readonly spanCount: number;
  readonly eventCount: number;
  readonly errorCount: number;
}

export interface TraceTree {
  /** Tokens and cost of the trace's executions at today's prices. */
  readonly cost: CostSummary;
  readonly summary: TraceSummary;
  /** Executions without a (known) parent, earliest first; sub-agents nested in `children`. */
  readonly roots: readonly ExecutionNode[];
  readonly correlations: readonly StoredRecord[];
  /** Records whose execution_id is empty or names no execution of the trace. */
  readonly unattached: TraceRecords;
}

export interface GetTraceOptions {
  /**
   * Look the trace's time range up in trace_index first and bound every table scan by it
   * (partition pruning plus primary-key range). Default: true.
   */
  readonly useIndex?: boolean;
}

/** One row of executions_state merged per execution. */
export interface ExecutionStateRow {
  execution_id: string;
  agent_name: string;
  parent_execution_id: string;
  lifecycle: string;
  status: string;
  started_at: number;
  ended_at: number | null;
  duration_ms: number | null;
  user_id: string;
  thread_id: string;
  span_id: string | null;
  input_summary: string | null;
  result_summary: string | null;
  error_message: string | null;
}

interface MutableNode extends Omit<ExecutionNode, "children" | keyof TraceRecords> {
  parentExecutionId: string | null;
  relationship: string | null;
  cost: CostSummary;
  agentName: string | null;
  events: StoredRecord[];
  metrics: StoredRecord[];
  errors: StoredRecord[];
  spans: StoredRecord[];
  children: MutableNode[];
}

function placeholderNode(executionId: string, agentName: string | null): MutableNode {
  return {
    executionId,
    agentName,
    parentExecutionId: null,
    relationship: null,
    lifecycle: null,
    status: null,
    startedAtUs: null,
    endedAtUs: null,
    durationMs: null,
    userId: null,
    threadId: null,
    spanId: null,
    inputSummary: null,
    resultSummary: null,
    errorMessage: null,
    cost: EMPTY_COST,
    events: [],
    metrics: [],
    errors: [],
    spans: [],
    children: [],
  };
}

function nodeFromState(row: ExecutionStateRow): MutableNode {
  return {
    ...placeholderNode(row.execution_id, strOrNull(row.agent_name)),
    parentExecutionId: strOrNull(row.parent_execution_id),
    lifecycle: row.lifecycle,
    status: row.status,
    startedAtUs: num(row.started_at),
    endedAtUs: numOrNull(row.ended_at),
    durationMs: numOrNull(row.duration_ms),
    userId: strOrNull(row.user_id),
    threadId: strOrNull(row.thread_id),
    spanId: strOrNull(row.span_id),
    inputSummary: row.input_summary,
    resultSummary: row.result_summary,
    errorMessage: row.error_message,
  };
}

/** True when following parents from `node` comes back to it. */
function inCycle(node: MutableNode, nodes: ReadonlyMap<string, MutableNode>): boolean {
  const seen = new Set<string>();
  let current: MutableNode | undefined = node;
  while (current?.parentExecutionId != null) {
    if (current.parentExecutionId === node.executionId) return true;
    if (seen.has(current.executionId)) return false;
    seen.add(current.executionId);
    current = nodes.get(current.parentExecutionId);
  }
  return false;
}

const byStart = (a: MutableNode, b: MutableNode): number =>
  (a.startedAtUs ?? Number.MAX_SAFE_INTEGER) - (b.startedAtUs ?? Number.MAX_SAFE_INTEGER) ||
  a.executionId.localeCompare(b.executionId);

function sortTree(nodes: MutableNode[]): void {
  nodes.sort(byStart);
  for (const node of nodes) sortTree(node.children);
}

/** The execution tree of a trace from its stored rows. */
export function buildTree(
  traceId: string,
  executions: readonly ExecutionStateRow[],
  correlations: readonly StoredRecord[],
  records: { events: StoredRecord[]; metrics: StoredRecord[]; errors: StoredRecord[]; spans: StoredRecord[] },
  costs: { readonly trace: CostSummary; readonly byExecution: ReadonlyMap<string, CostSummary> },
): TraceTree {
  const nodes = new Map<string, MutableNode>(executions.map((row) => [row.execution_id, nodeFromState(row)]));
  for (const [executionId, cost] of costs.byExecution) {
    const node = nodes.get(executionId);
    if (node !== undefined) node.cost = cost;
  }
  for (const link of correlations) {
    const parentId = String(link["parent_execution_id"]);
    const childId = String(link["child_execution_id"]);
    if (!nodes.has(parentId)) nodes.set(parentId, placeholderNode(parentId, link.agent_name));
    const child = nodes.get(childId) ?? placeholderNode(childId, strOrNull(link["child_agent_name"]));
    nodes.set(childId, child);
    child.parentExecutionId ??= parentId;
    if (child.parentExecutionId === parentId) child.relationship = String(link["relationship"]);
  }
  const unattached = {
    events: [] as StoredRecord[],
    metrics: [] as StoredRecord[],
    errors: [] as StoredRecord[],
    spans: [] as StoredRecord[],
  };
  for (const kind of ["events", "metrics", "errors", "spans"] as const) {
    for (const record of records[kind]) {
      const node = record.execution_id === null ? undefined : nodes.get(record.execution_id);
      (node ?? unattached)[kind].push(record);
    }
  }
  const roots: MutableNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.parentExecutionId === null ? undefined : nodes.get(node.parentExecutionId);
    if (parent === undefined || inCycle(node, nodes)) roots.push(node);
    else parent.children.push(node);
  }
  sortTree(roots);
  return {
    summary: summarise(traceId, nodes, roots, records),
    cost: costs.trace,
    roots,
    correlations,
    unattached,
  };
}

function summarise(
  traceId: string,
  nodes: ReadonlyMap<string, MutableNode>,
  roots: readonly MutableNode[],
  records: TraceRecords,
): TraceSummary {
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  const see = (us: unknown): void => {
    if (typeof us === "number") {
      start = Math.min(start, us);
      end = Math.max(end, us);
    }
  };
  for (const node of nodes.values()) {
    see(node.startedAtUs);
    see(node.endedAtUs);
  }
  for (const kind of ["events", "metrics", "errors", "spans"] as const) {
    for (const record of records[kind]) see(record.event_time);
  }
  for (const span of records.spans) {
    see(span["start_time"]);
    see(span["end_time"]);
  }
  let userId: string | null = null;
  for (const node of nodes.values()) userId ??= node.userId;
  for (const record of [...records.spans, ...records.events]) userId ??= record.user_id;
  const hasError =
    records.spans.some((span) => span["status_code"] === "ERROR") ||
    records.errors.some((error) => error["severity"] !== "WARNING") ||
    [...nodes.values()].some((node) => node.lifecycle === "FAILED");
  const known = Number.isFinite(start);
  return {
    traceId,
    startTimeUs: known ? start : 0,
    endTimeUs: known ? end : 0,
    durationMs: known ? (end - start) / 1000 : 0,
    rootAgent: roots[0]?.agentName ?? null,
    userId,
    hasError,
    executionCount: [...nodes.values()].filter((node) => node.lifecycle !== null).length,
    spanCount: new Set(records.spans.map((span) => span.span_id)).size,
    eventCount: records.events.length,
    errorCount: records.errors.length,
  };
}
