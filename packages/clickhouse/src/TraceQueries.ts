import { DEFAULT_PRICES } from "./cost.js";
import type { PriceTable } from "./cost.js";
import type { Sink } from "./sink.js";
import {
  agentCostOverview,
  agentCostStats,
  agentHourlyCostStats,
  agentHourlyStats,
  agentStats,
  slowestExecutions,
} from "./queries/agents.js";
import type {
  AgentCostStats,
  AgentHourlyCostStats,
  AgentHourlyStats,
  AgentStats,
  AgentStatsOptions,
  SlowestExecutionsOptions,
  SlowExecution,
} from "./queries/agents.js";
import { errorExamples, errorHourly, errorSummary } from "./queries/errors.js";
import type { ErrorExample, ErrorHourlyRow, ErrorSummaryRow } from "./queries/errors.js";
import type { TimeRange } from "./queries/sql.js";
import { findTraces, listTraces } from "./queries/trace-list.js";
import type { FindTracesOptions, TraceListOptions, TracePage } from "./queries/trace-list.js";
import type { GetTraceOptions, TraceSummary, TraceTree } from "./queries/trace-tree.js";
import { getTrace } from "./queries/traces.js";
import { throughDistributed } from "./distributed.js";

export interface TraceQueriesOptions {
  /** Model prices for cost, applied at query time. Default: DEFAULT_PRICES. */
  readonly prices?: PriceTable;
  /** Cluster name: read through the Distributed `_all` tables (migration 0007). Default: none. */
  readonly cluster?: string | null;
}

/**
 * The read side: one entry over the query families in `queries/` (traces, trace list, agents,
 * errors, usage). Every value is a bound `{name:Type}` parameter; every read is exact before
 * merges (FINAL or LIMIT 1 BY event_id on ReplacingMergeTree, -Merge over idempotent states).
 */
export class TraceQueries {
  readonly prices: PriceTable;
  private readonly sink: Sink;

  constructor(sink: Sink, options: TraceQueriesOptions = {}) {
    this.sink = throughDistributed(sink, options.cluster);
    this.prices = options.prices ?? DEFAULT_PRICES;
  }

  /** The execution tree of one trace with its events, metrics, errors, spans and cost; null if unknown. */
  getTrace(traceId: string, options: GetTraceOptions = {}): Promise<TraceTree | null> {
    return getTrace(this.sink, this.prices, traceId, options);
  }

  /** One filtered, sorted page of traces with agents, LLM calls, tokens, cost and errors. */
  listTraces(options: TraceListOptions): Promise<TracePage> {
    return listTraces(this.sink, this.prices, options);
  }

  /** Traces that started in the window, newest first, from the trace index. */
  findTraces(options: FindTracesOptions): Promise<TraceSummary[]> {
    return findTraces(this.sink, options);
  }

  /** Per agent over the window: executions, failures, latency and TTFT quantiles, phase sums. */
  agentStats(options: AgentStatsOptions): Promise<AgentStats[]> {
    return agentStats(this.sink, options);
  }

  /** {@link agentStats} with tokens and cost per agent. */
  agentCostStats(options: AgentStatsOptions): Promise<AgentCostStats[]> {
    return agentCostStats(this.sink, this.prices, options);
  }

  /** {@link agentCostStats} and {@link agentHourlyCostStats} together, reading the usage once. */
  agentCostOverview(
    options: AgentStatsOptions,
  ): Promise<{ agents: AgentCostStats[]; hourly: AgentHourlyCostStats[] }> {
    return agentCostOverview(this.sink, this.prices, options);
  }

  /** Per agent and hour (hours overlapping the window, whole hours). */
  agentHourlyStats(options: AgentStatsOptions): Promise<AgentHourlyStats[]> {
    return agentHourlyStats(this.sink, options);
  }

  /** {@link agentHourlyStats} with tokens and cost per agent and hour. */
  agentHourlyCostStats(options: AgentStatsOptions): Promise<AgentHourlyCostStats[]> {
    return agentHourlyCostStats(this.sink, this.prices, options);
  }

  /** Completed or failed executions in the window, longest first (one row per execution). */
  slowestExecutions(options: SlowestExecutionsOptions): Promise<SlowExecution[]> {
    return slowestExecutions(this.sink, options);
  }

  /** Errors per agent, class and severity over the hours overlapping the window, most frequent first. */
  errorSummary(range: TimeRange): Promise<ErrorSummaryRow[]> {
    return errorSummary(this.sink, range);
  }

  /** Errors per hour, agent and class. */
  errorHourly(range: TimeRange): Promise<ErrorHourlyRow[]> {
    return errorHourly(this.sink, range);
  }

  /** The latest errors of each agent and class, with their traces. */
  errorExamples(range: TimeRange & { readonly perGroup?: number }): Promise<ErrorExample[]> {
    return errorExamples(this.sink, range);
  }
}
