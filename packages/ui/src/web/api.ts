import type {
  AgentCostStats,
  AgentHourlyCostStats,
  CostSummary,
  ErrorExample,
  ErrorHourlyRow,
  ErrorSummaryRow,
  SlowExecution,
  TracePage,
  TraceTree,
} from "@tracehouse/clickhouse";

export type { CostSummary, TracePage, TraceTree };
export type { ExecutionNode, StoredRecord, TraceListItem } from "@tracehouse/clickhouse";

export interface TraceView extends TraceTree {
  readonly running: boolean;
}

/** JSON turns Dates into strings. */
type Json<T> = T extends Date ? string : T extends object ? { [K in keyof T]: Json<T[K]> } : T;

export type AgentsView = Json<{
  from: Date;
  to: Date;
  agents: AgentCostStats[];
  hourly: AgentHourlyCostStats[];
  slowest: SlowExecution[];
}>;

export type ErrorsView = Json<{
  from: Date;
  to: Date;
  summary: ErrorSummaryRow[];
  hourly: ErrorHourlyRow[];
  examples: ErrorExample[];
}>;

export class ApiError extends Error {}

export async function getJson<T>(path: string, params: URLSearchParams = new URLSearchParams()): Promise<T> {
  const query = params.toString();
  const response = await fetch(query === "" ? path : `${path}?${query}`, {
    headers: { accept: "application/json" },
  });
  const body = (await response.json().catch(() => ({ error: response.statusText }))) as { error?: string };
  if (!response.ok) throw new ApiError(body.error ?? `HTTP ${response.status}`);
  return body as T;
}
