import type { Sink } from "../sink.js";
import { costOf, findPrice } from "../cost.js";
import type { PriceTable } from "../cost.js";
import { num, strOrNull, timeParam } from "./sql.js";

/** The LLM_CALL_END attribute holding the input tokens served from cache (OpenTelemetry GenAI); migration 0008 reads it. */
export const CACHED_INPUT_ATTRIBUTE = "gen_ai.usage.cache_read.input_tokens";

/** The hours of execution_summary between the epoch-µs parameters from_us and to_us. */
export const SUMMARY_HOURS = `hour >= toStartOfHour(${timeParam("from_us")}) AND hour <= ${timeParam("to_us")}`;

/** Tokens of one model (or of executions whose model is not known) and what they cost. */
export interface ModelUsage {
  /** null: the executions used no known model, or more than one (their tokens cannot be split). */
  readonly model: string | null;
  readonly executions: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cachedInputTokens: number;
  /** USD at today's price table; null when the model has no price. */
  readonly costUsd: number | null;
}

/** Token totals and cost of a set of executions. */
export interface CostSummary {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cachedInputTokens: number;
  /** Cost of the priced tokens; null when no token could be priced. */
  readonly costUsd: number | null;
  /** Input plus output tokens of models without a price (never given a wrong cost). */
  readonly unpricedTokens: number;
  readonly byModel: readonly ModelUsage[];
}

export const EMPTY_COST: CostSummary = {
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  costUsd: null,
  unpricedTokens: 0,
  byModel: [],
};

/** What usage rows are grouped by besides the model: a column of the per-execution usage. */
export type UsageGroup = "trace_id" | "execution_id" | "agent_name" | "agent_hour";

const GROUP_KEYS: { readonly [G in UsageGroup]: string } = {
  trace_id: "trace_id",
  execution_id: "execution_id",
  agent_name: "agent_name",
  agent_hour: "concat(toString(toUnixTimestamp(metrics_hour)), ' ', agent_name)",
};

/** Which executions' usage to read: every record of them lies between from_us and to_us (epoch µs). */
export interface UsageQuery {
  readonly group: UsageGroup;
  readonly from_us: number;
  readonly to_us: number;
  /** Only these traces (whole traces). */
  readonly traceIds?: readonly string[];
  /** Only metrics records in [from_us, to_us), and only this agent's executions (a window of time). */
  readonly window?: { readonly agent?: string };
}

export interface UsageRow {
  readonly key: string;
  readonly usage: ModelUsage;
}

/**
 * Token usage per execution, from the per-execution summary (migration 0008) of the hours asked
 * for: tokens from its performance-metrics records (each counted once), cached input from its
 * LLM_CALL_END events, and its model from its LLM calls. An execution that called one model is
 * priced at that model; one that called several (or none) stays unpriced, because its metrics do
 * not say which tokens went to which model. Grouped by `group` and model.
 */
export async function usageBy(sink: Sink, prices: PriceTable, query: UsageQuery): Promise<UsageRow[]> {
  if (query.traceIds?.length === 0) return [];
  const params: Record<string, unknown> = { from_us: query.from_us, to_us: query.to_us };
  const where = [SUMMARY_HOURS];
  const having = ["notEmpty(m)"];
  let metrics = "groupUniqArrayMerge(metrics)";
  if (query.traceIds !== undefined) {
    params["trace_ids"] = query.traceIds;
    where.push("trace_id IN {trace_ids:Array(String)}");
  }
  if (query.window !== undefined) {
    metrics = `arrayFilter(x -> x.2 >= ${timeParam("from_us")} AND x.2 < ${timeParam("to_us")}, ${metrics})`;
    if (query.window.agent !== undefined) {
      params["agent"] = query.window.agent;
      having.push("agent_name = {agent:String}");
    }
  }
  const rows = await sink.query<Record<string, unknown>>(
    `SELECT ${GROUP_KEYS[query.group]} AS group_key, if(length(models) = 1, models[1], '') AS model,
            count() AS executions, sum(input) AS input_tokens, sum(output) AS output_tokens,
            sum(least(cached, input)) AS cached_tokens
     FROM (
       SELECT trace_id, execution_id, max(agent_name) AS agent_name, ${metrics} AS m,
              toStartOfHour(arrayMin(x -> x.2, m)) AS metrics_hour, arraySum(x -> x.3, m) AS input,
              arraySum(x -> x.4, m) AS output, groupUniqArrayArray(models) AS models,
              arraySum(x -> x.2, groupUniqArrayMerge(cached)) AS cached
       FROM ${sink.database}.execution_summary
       WHERE ${where.join(" AND ")}
       GROUP BY trace_id, execution_id
       HAVING ${having.join(" AND ")}
     )
     GROUP BY group_key, model
     ORDER BY group_key, model`,
    params,
  );
  return toUsageRows(rows, prices);
}

function toUsageRows(rows: readonly Record<string, unknown>[], prices: PriceTable): UsageRow[] {
  return rows.map((row) => {
    const model = strOrNull(row["model"]);
    const tokens = {
      input: num(row["input_tokens"]),
      output: num(row["output_tokens"]),
      cachedInput: num(row["cached_tokens"]),
    };
    const price = findPrice(prices, model);
    return {
      key: String(row["group_key"]),
      usage: {
        model,
        executions: num(row["executions"]),
        inputTokens: tokens.input,
        outputTokens: tokens.output,
        cachedInputTokens: tokens.cachedInput,
        costUsd: price === null ? null : costOf(price, tokens),
      },
    };
  });
}

/** Adds model usages up into one summary. */
export function summariseCost(usages: readonly ModelUsage[]): CostSummary {
  let inputTokens = 0;
  let outputTokens = 0;
  let cachedInputTokens = 0;
  let costUsd: number | null = null;
  let unpricedTokens = 0;
  for (const usage of usages) {
    inputTokens += usage.inputTokens;
    outputTokens += usage.outputTokens;
    cachedInputTokens += usage.cachedInputTokens;
    if (usage.costUsd === null) unpricedTokens += usage.inputTokens + usage.outputTokens;
    else costUsd = (costUsd ?? 0) + usage.costUsd;
  }
  return { inputTokens, outputTokens, cachedInputTokens, costUsd, unpricedTokens, byModel: usages };
}

/** Usage rows grouped by their key, each group summarised. */
export function costByKey(rows: readonly UsageRow[]): Map<string, CostSummary> {
  const grouped = new Map<string, ModelUsage[]>();
  for (const row of rows) {
    const list = grouped.get(row.key) ?? [];
    list.push(row.usage);
    grouped.set(row.key, list);
  }
  return new Map([...grouped].map(([key, usages]) => [key, summariseCost(usages)]));
}

/** Usages of the same model added together. */
export function mergeByModel(usages: readonly ModelUsage[]): ModelUsage[] {
  const byModel = new Map<string | null, ModelUsage>();
  for (const usage of usages) {
    const seen = byModel.get(usage.model);
    byModel.set(
      usage.model,
      seen === undefined
        ? usage
        : {
            model: usage.model,
            executions: seen.executions + usage.executions,
            inputTokens: seen.inputTokens + usage.inputTokens,
            outputTokens: seen.outputTokens + usage.outputTokens,
            cachedInputTokens: seen.cachedInputTokens + usage.cachedInputTokens,
            costUsd: seen.costUsd === null || usage.costUsd === null ? null : seen.costUsd + usage.costUsd,
          },
    );
  }
  return [...byModel.values()];
}
