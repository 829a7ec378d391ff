import type { PriceTable } from "../cost.js";
import type { Sink } from "../sink.js";
import { METRIC_FIELDS } from "./fields.js";
import type { PhaseSums } from "./fields.js";
import { limitParam, num, quantiles, rangeParams, strOrNull, timeParam } from "./sql.js";
import type { Quantiles, TimeRange } from "./sql.js";
import { agentUsage, costByKey, EMPTY_COST } from "./usage.js";
import type { CostSummary } from "./usage.js";

export interface AgentStatsOptions extends TimeRange {
  /** Only this agent. Default: all agents. */
  readonly agent?: string;
}

export interface AgentStats {
  readonly agentName: string;
  /** Executions that started in the window. */
  readonly started: number;
  /** Executions that completed or failed in the window. */
  readonly finished: number;
  readonly failures: number;
  readonly latencyMs: Quantiles;
  readonly timeToFirstTokenMs: Quantiles;
  readonly phases: PhaseSums;
}

export interface AgentHourlyStats extends AgentStats {
  readonly hour: Date;
}

/** Agent statistics with the cost of the tokens behind them. */
export interface AgentCostStats extends AgentStats {
  readonly cost: CostSummary;
}

export interface AgentHourlyCostStats extends AgentHourlyStats {
  readonly cost: CostSummary;
}

export interface SlowestExecutionsOptions extends TimeRange {
  /** Only this agent. Default: all agents. */
  readonly agent?: string;
  /** Default: 10. */
  readonly limit?: number;
}

export interface SlowExecution {
  readonly executionId: string;
  readonly traceId: string;
  readonly agentName: string | null;
  readonly lifecycle: string;
  readonly status: string;
  readonly durationMs: number;
  readonly endedAtUs: number;
}

const FACTS_WINDOW = `hour >= toStartOfHour(${timeParam("from_us")}) AND hour <= ${timeParam("to_us")}
      AND event_time >= ${timeParam("from_us")} AND event_time < ${timeParam("to_us")}`;

const STARTED = "source = 'execution' AND lifecycle = 'STARTED'";
const FINISHED = "source = 'execution' AND lifecycle IN ('COMPLETED', 'FAILED')";
const FAILED = "source = 'execution' AND lifecycle = 'FAILED'";
const LATENCY = `${FINISHED} AND duration_ms IS NOT NULL`;
const TTFT = "source = 'metrics' AND time_to_first_token_ms IS NOT NULL";
const QUANTILES = "quantilesExact(0.5, 0.95, 0.99)";

/** The figures of AgentStats: name, aggregate function, its arguments, and the facts it is taken over. */
type Stat = readonly [name: string, fn: string, args: string, where: string];
const STATS: readonly Stat[] = [
  ["started", "uniqExact", "execution_id", STARTED],
  ["finished", "uniqExact", "execution_id", FINISHED],
  ["failures", "uniqExact", "execution_id", FAILED],
  ["latency", QUANTILES, "duration_ms", LATENCY],
  ["latency_samples", "count", "", LATENCY],
  ["ttft", QUANTILES, "time_to_first_token_ms", TTFT],
  ["ttft_samples", "count", "", TTFT],
  ...METRIC_FIELDS.map(({ column }): Stat => [column, "sum", column, "source = 'metrics'"]),
];

/** Each figure over its facts: `quantilesExact(0.5)(duration_ms)` becomes `quantilesExactIf(0.5)(duration_ms, …)`. */
const AGENT_STATS_COLUMNS = STATS.map(
  ([name, fn, args, where]) =>
    `${fn.replace(/^(\w+)/, "$1If")}(${args === "" ? where : `${args}, ${where}`}) AS ${name}`,
).join(",\n    ");

type AgentStatsRow = Record<string, unknown> & { agent_name: string };

function toAgentStats(row: AgentStatsRow): AgentStats {
  const phases = Object.fromEntries(METRIC_FIELDS.map(({ column, key }) => [key, num(row[column])]));
  return {
    agentName: row.agent_name,
    started: num(row["started"]),
    finished: num(row["finished"]),
    failures: num(row["failures"]),
    latencyMs: quantiles(row["latency"], row["latency_samples"]),
    timeToFirstTokenMs: quantiles(row["ttft"], row["ttft_samples"]),
    phases: phases as unknown as PhaseSums,
  };
}

function agentParams(options: AgentStatsOptions): { params: Record<string, unknown>; filter: string } {
  const params: Record<string, unknown> = rangeParams(options);
  if (options.agent === undefined) return { params, filter: "" };
  params["agent"] = options.agent;
  return { params, filter: " AND agent_name = {agent:String}" };
}

/** Per agent over the window: executions, failures, latency and TTFT quantiles, phase sums. */
export async function agentStats(sink: Sink, options: AgentStatsOptions): Promise<AgentStats[]> {
  const { params, filter } = agentParams(options);
  const rows = await sink.query<AgentStatsRow>(
    `SELECT agent_name, ${AGENT_STATS_COLUMNS}
     FROM ${sink.database}.agent_hourly_facts FINAL
     WHERE ${FACTS_WINDOW}${filter}
     GROUP BY agent_name ORDER BY agent_name`,
    params,
  );
  return rows.map(toAgentStats);
}

/** Per agent and hour (hours overlapping the window, whole hours). */
export async function agentHourlyStats(sink: Sink, options: AgentStatsOptions): Promise<AgentHourlyStats[]> {
  const { params, filter } = agentParams(options);
  const rows = await sink.query<AgentStatsRow & { hour_us: number }>(
    `SELECT agent_name, toUnixTimestamp(hour) * 1000000 AS hour_us, ${AGENT_STATS_COLUMNS}
     FROM ${sink.database}.agent_hourly_facts FINAL
     WHERE hour >= toStartOfHour(${timeParam("from_us")}) AND hour < ${timeParam("to_us")}${filter}
     GROUP BY agent_name, hour ORDER BY hour, agent_name`,
    params,
  );
  return rows.map((row) => ({ ...toAgentStats(row), hour: new Date(num(row.hour_us) / 1000) }));
}

/**
 * {@link agentStats} and {@link agentHourlyStats} from one read of the facts, as two grouping sets:
 * per agent and hour over the whole hours, and per agent and whether a fact lies in the window
 * (the window's facts lie in the hours read; the rows outside it are dropped).
 */
export async function agentOverviewStats(
  sink: Sink,
  options: AgentStatsOptions,
): Promise<{ agents: AgentStats[]; hourly: AgentHourlyStats[] }> {
  const { params, filter } = agentParams(options);
  const rows = await sink.query<AgentStatsRow & { hour_us: number; total: number }>(
    `SELECT agent_name, grouping(hour) AS total, toUnixTimestamp(hour) * 1000000 AS hour_us, ${AGENT_STATS_COLUMNS}
     FROM (
       SELECT *, event_time >= ${timeParam("from_us")} AND event_time < ${timeParam("to_us")} AS in_window
       FROM ${sink.database}.agent_hourly_facts FINAL
       WHERE hour >= toStartOfHour(${timeParam("from_us")}) AND hour < ${timeParam("to_us")}${filter}
     )
     GROUP BY GROUPING SETS ((agent_name, hour), (agent_name, in_window))
     HAVING total = 0 OR in_window
     ORDER BY total, hour, agent_name`,
    params,
  );
  return {
    agents: rows.filter((row) => num(row.total) === 1).map(toAgentStats),
    hourly: rows
      .filter((row) => num(row.total) === 0)
      .map((row) => ({ ...toAgentStats(row), hour: new Date(num(row.hour_us) / 1000) })),
  };
}

/** {@link agentStats} with each agent's tokens and cost. */
export async function agentCostStats(
  sink: Sink,
  prices: PriceTable,
  options: AgentStatsOptions,
): Promise<AgentCostStats[]> {
  return (await agentCostOverview(sink, prices, options)).agents;
}

/** {@link agentHourlyStats} with each agent's tokens and cost per hour. */
export async function agentHourlyCostStats(
  sink: Sink,
  prices: PriceTable,
  options: AgentStatsOptions,
): Promise<AgentHourlyCostStats[]> {
  return (await agentCostOverview(sink, prices, options)).hourly;
}

/** {@link agentCostStats} and {@link agentHourlyCostStats} together, reading the usage once. */
export async function agentCostOverview(
  sink: Sink,
  prices: PriceTable,
  options: AgentStatsOptions,
): Promise<{ agents: AgentCostStats[]; hourly: AgentHourlyCostStats[] }> {
  const [{ agents: stats, hourly: hourlyStats }, usage] = await Promise.all([
    agentOverviewStats(sink, options),
    agentUsage(sink, prices, {
      ...rangeParams(options),
      ...(options.agent === undefined ? {} : { agent: options.agent }),
    }),
  ]);
  const costs = costByKey(usage.byAgent);
  const hourlyCosts = costByKey(usage.byAgentHour);
  return {
    agents: stats.map((row) => ({ ...row, cost: costs.get(row.agentName) ?? EMPTY_COST })),
    hourly: hourlyStats.map((row) => ({
      ...row,
      cost: hourlyCosts.get(`${row.hour.getTime() / 1000} ${row.agentName}`) ?? EMPTY_COST,
    })),
  };
}

/** Facts taken per execution asked for before sorting them all (see slowestExecutions). */
const SLOWEST_FACTS_PER_EXECUTION = 4;

/**
 * Completed or failed executions in the window, longest first (one row per execution). Without
 * FINAL: a record stored twice gives two identical facts, and LIMIT 1 BY keeps one of them.
 * LIMIT 1 BY needs the whole sorted stream, so first only the longest `limit × 4` facts are taken
 * (a top-N sort): when they hold `limit` executions, those are the answer (the first facts of
 * each execution in the whole stream are the same); when not, every fact of the window is sorted.
 */
export async function slowestExecutions(
  sink: Sink,
  options: SlowestExecutionsOptions,
): Promise<SlowExecution[]> {
  const { params, filter } = agentParams(options);
  const limit = limitParam(options.limit, 10);
  const slowest = (candidates: string): Promise<Record<string, unknown>[]> =>
    sink.query<Record<string, unknown>>(
      `SELECT * FROM (
         SELECT execution_id, trace_id, agent_name, lifecycle, status, duration_ms,
                toUnixTimestamp64Micro(event_time) AS ended_at_us
         FROM ${sink.database}.agent_hourly_facts
         WHERE source = 'execution' AND lifecycle IN ('COMPLETED', 'FAILED') AND duration_ms IS NOT NULL
           AND ${FACTS_WINDOW}${filter}
         ORDER BY duration_ms DESC, execution_id${candidates}
       )
       ORDER BY duration_ms DESC, execution_id
       LIMIT 1 BY execution_id
       LIMIT {limit:UInt32}`,
      { ...params, limit, candidates: limit * SLOWEST_FACTS_PER_EXECUTION },
    );
  let rows = await slowest(" LIMIT {candidates:UInt32}");
  if (rows.length < limit) rows = await slowest("");
  return rows.map((row) => ({
    executionId: String(row["execution_id"]),
    traceId: String(row["trace_id"]),
    agentName: strOrNull(row["agent_name"]),
    lifecycle: String(row["lifecycle"]),
    status: String(row["status"]),
    durationMs: num(row["duration_ms"]),
    endedAtUs: num(row["ended_at_us"]),
  }));
}
