import type { Sink } from "../sink.js";
import { costOf, findPrice } from "../cost.js";
import type { PriceTable } from "../cost.js";
import { num, strOrNull } from "./sql.js";

/** The LLM_CALL_END attribute holding the input tokens served from cache (OpenTelemetry GenAI). */
export const CACHED_INPUT_ATTRIBUTE = "gen_ai.usage.cache_read.input_tokens";

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
  trace_id: "t.trace_id",
  execution_id: "t.execution_id",
  agent_name: "t.agent_name",
  agent_hour: "concat(toString(toUnixTimestamp(t.hour)), ' ', t.agent_name)",
};

export interface UsageQuery {
  readonly group: UsageGroup;
  /** SQL conditions on the record tables (both have trace_id, execution_id, agent_name, event_time). */
  readonly where: string;
  readonly params: Readonly<Record<string, unknown>>;
}

export interface UsageRow {
  readonly key: string;
  readonly usage: ModelUsage;
}

/**
 * Token usage per execution (one aggregation over both tables, no join): tokens from its
 * performance-metrics records (each counted once),
 * cached input from its LLM_CALL_END events, and its model from its LLM calls. An execution that
 * called one model is priced at that model; one that called several (or none) stays unpriced,
 * because its metrics do not say which tokens went to which model.
 */
export async function usageBy(sink: Sink, prices: PriceTable, query: UsageQuery): Promise<UsageRow[]> {
  const db = sink.database;
  const rows = await sink.query<Record<string, unknown>>(
    `SELECT ${GROUP_KEYS[query.group]} AS group_key, if(length(t.models) = 1, t.models[1], '') AS model,
            count() AS executions, sum(t.input) AS input, sum(t.output) AS output, sum(least(t.cached, t.input)) AS cached
     FROM (
       SELECT trace_id, execution_id, any(agent_name) AS agent_name,
              toStartOfHour(minIf(event_time, source = 'metrics')) AS hour,
              sumIf(input, source = 'metrics') AS input, sumIf(output, source = 'metrics') AS output,
              groupUniqArrayIf(name, kind = 'LLM_CALL_START') AS models, sumIf(cached, kind = 'LLM_CALL_END') AS cached
       FROM (
         SELECT 'metrics' AS source, trace_id, execution_id, toString(agent_name) AS agent_name, event_time,
                ifNull(prompt_tokens, 0) AS input, ifNull(completion_tokens, 0) AS output, '' AS name, '' AS kind,
                toUInt64(0) AS cached
         FROM (
           SELECT trace_id, execution_id, agent_name, event_time, prompt_tokens, completion_tokens
           FROM ${db}.performance_metrics
           WHERE ${query.where} AND (prompt_tokens IS NOT NULL OR completion_tokens IS NOT NULL)
           LIMIT 1 BY event_id
         )
         UNION ALL
         SELECT 'events', trace_id, execution_id, toString(agent_name), event_time, toInt64(0), toInt64(0),
                toString(name), toString(event_kind), toUInt64OrZero(attributes['${CACHED_INPUT_ATTRIBUTE}'])
         FROM (
           SELECT trace_id, execution_id, agent_name, event_time, name, event_kind, attributes
           FROM ${db}.agent_events
           WHERE ${query.where} AND event_kind IN ('LLM_CALL_START', 'LLM_CALL_END')
           LIMIT 1 BY event_id
         )
       )
       GROUP BY trace_id, execution_id
       HAVING countIf(source = 'metrics') > 0
     ) AS t
     GROUP BY group_key, model
     ORDER BY group_key, model`,
    query.params,
  );
  return rows.map((row) => {
    const model = strOrNull(row["model"]);
    const tokens = { input: num(row["input"]), output: num(row["output"]), cachedInput: num(row["cached"]) };
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
