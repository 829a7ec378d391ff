import type { Sink } from "../sink.js";
import { costOf, findPrice } from "../cost.js";
import type { PriceTable } from "../cost.js";
import { num, strOrNull, timeParam } from "./sql.js";
import type { StoredRecord } from "./trace-tree.js";

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

/** What usage rows of whole traces are grouped by besides the model. */
export type UsageGroup = "trace_id" | "execution_id";

/** Which traces' usage to read: every record of them lies between from_us and to_us (epoch µs). */
export interface UsageQuery {
  readonly group: UsageGroup;
  readonly from_us: number;
  readonly to_us: number;
  readonly traceIds: readonly string[];
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
  if (query.traceIds.length === 0) return [];
  const rows = await sink.query<Record<string, unknown>>(
    `SELECT ${query.group} AS group_key, if(length(models) = 1, models[1], '') AS model,
            count() AS executions, sum(input) AS input_tokens, sum(output) AS output_tokens,
            sum(least(cached, input)) AS cached_tokens
     FROM (
       SELECT trace_id, execution_id, groupUniqArrayMerge(metrics) AS m, arraySum(x -> x.3, m) AS input,
              arraySum(x -> x.4, m) AS output, groupUniqArrayArray(models) AS models,
              arraySum(x -> x.2, groupUniqArrayMerge(cached)) AS cached
       FROM ${sink.database}.execution_summary
       WHERE ${SUMMARY_HOURS} AND trace_id IN {trace_ids:Array(String)}
       GROUP BY trace_id, execution_id
       HAVING notEmpty(m)
     )
     GROUP BY group_key, model
     ORDER BY group_key, model`,
    { from_us: query.from_us, to_us: query.to_us, trace_ids: query.traceIds },
  );
  return toUsageRows(rows, prices);
}

/**
 * Usage of the executions whose metrics fall in [from_us, to_us), per agent, and of those whose
 * metrics fall in the whole hours from toStartOfHour(from_us), per agent and hour (the hour of their
 * first metrics record): both from one read of the summary (the agents page shows both). A metrics
 * record lies in its own hour's row, so the rows read hold no record before toStartOfHour(from_us).
 */
export async function agentUsage(
  sink: Sink,
  prices: PriceTable,
  range: { readonly from_us: number; readonly to_us: number; readonly agent?: string },
): Promise<{ byAgent: UsageRow[]; byAgentHour: UsageRow[] }> {
  const params: Record<string, unknown> = { from_us: range.from_us, to_us: range.to_us };
  const having = ["notEmpty(m)"];
  if (range.agent !== undefined) {
    params["agent"] = range.agent;
    having.push("agent_name = {agent:String}");
  }
  const from = timeParam("from_us");
  const to = timeParam("to_us");
  const rows = await sink.query<Record<string, unknown>>(
    `SELECT agent_name, toUnixTimestamp(metrics_hour) AS hour_s, if(length(models) = 1, models[1], '') AS model,
            count() AS executions, sum(input) AS input_tokens, sum(output) AS output_tokens,
            sum(least(cached, input)) AS cached_tokens,
            countIf(notEmpty(mw)) AS w_executions, sum(arraySum(mw.3)) AS w_input_tokens,
            sum(arraySum(mw.4)) AS w_output_tokens,
            sum(if(notEmpty(mw), least(cached, arraySum(mw.3)), 0)) AS w_cached_tokens
     FROM (
       SELECT trace_id, execution_id, max(agent_name) AS agent_name,
              arrayFilter(x -> x.2 < ${to}, groupUniqArrayMerge(metrics)) AS m,
              arrayFilter(x -> x.2 >= ${from}, m) AS mw, toStartOfHour(arrayMin(m.2)) AS metrics_hour,
              arraySum(m.3) AS input, arraySum(m.4) AS output, groupUniqArrayArray(models) AS models,
              arraySum(groupUniqArrayMerge(cached).2) AS cached
       FROM ${sink.database}.execution_summary
       WHERE ${SUMMARY_HOURS}
       GROUP BY trace_id, execution_id
       HAVING ${having.join(" AND ")}
     )
     GROUP BY agent_name, metrics_hour, model
     ORDER BY agent_name, metrics_hour, model`,
    params,
  );
  const byAgentHour = toUsageRows(
    rows.map((row) => ({ ...row, group_key: `${num(row["hour_s"])} ${String(row["agent_name"])}` })),
    prices,
  );
  const inWindow = new Map<string, Record<string, unknown> & { [K in (typeof SUMS)[number]]: number }>();
  for (const row of rows) {
    if (num(row["w_executions"]) === 0) continue;
    const key = `${String(row["agent_name"])}\u0000${String(row["model"])}`;
    const sums = inWindow.get(key) ?? {
      group_key: row["agent_name"],
      model: row["model"],
      executions: 0,
      input_tokens: 0,
      output_tokens: 0,
      cached_tokens: 0,
    };
    for (const column of SUMS) sums[column] += num(row[`w_${column}`]);
    inWindow.set(key, sums);
  }
  return { byAgent: toUsageRows([...inWindow.values()], prices), byAgentHour };
}

/** The largest UInt64: toUInt64OrZero gives 0 above it. */
const MAX_UINT64 = 0xffff_ffff_ffff_ffffn;

/** ClickHouse's toUInt64OrZero, which migration 0008 applies to the cached-input attribute. */
function uint64OrZero(text: unknown): number {
  if (typeof text !== "string" || !/^\+?[0-9]+$/.test(text)) return 0;
  return BigInt(text) <= MAX_UINT64 ? Number(text) : 0;
}

/** ClickHouse's order of strings: by their UTF-8 bytes. */
const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * {@link usageBy} grouped by execution for one trace whose metrics and events are already read (each
 * record once), without reading the summary: the same rule and the same rows in the same order.
 * An execution with a metrics record that carries tokens gets one row: the tokens of those records,
 * the cached input of its LLM_CALL_END events (at most its input), and the model when its
 * LLM_CALL_START events name exactly one. Records without an execution are the execution ''.
 */
export function usageOfRecords(
  prices: PriceTable,
  records: { readonly metrics: readonly StoredRecord[]; readonly events: readonly StoredRecord[] },
): UsageRow[] {
  const executions = new Map<
    string,
    { input: number; output: number; cached: number; models: Set<string>; tokens: boolean }
  >();
  const of = (record: StoredRecord) => {
    const key = record.execution_id ?? "";
    let usage = executions.get(key);
    if (usage === undefined) {
      usage = { input: 0, output: 0, cached: 0, models: new Set(), tokens: false };
      executions.set(key, usage);
    }
    return usage;
  };
  for (const record of records.metrics) {
    const prompt = record["prompt_tokens"];
    const completion = record["completion_tokens"];
    if (prompt === null && completion === null) continue;
    const usage = of(record);
    usage.input += num(prompt);
    usage.output += num(completion);
    usage.tokens = true;
  }
  for (const record of records.events) {
    if (record["event_kind"] === "LLM_CALL_START") of(record).models.add(String(record["name"]));
    if (record["event_kind"] === "LLM_CALL_END") {
      const attributes = record["attributes"] as Record<string, string> | undefined;
      of(record).cached += uint64OrZero(attributes?.[CACHED_INPUT_ATTRIBUTE]);
    }
  }
  const rows = [...executions]
    .filter(([, usage]) => usage.tokens)
    .map(([key, usage]) => ({
      group_key: key,
      model: usage.models.size === 1 ? [...usage.models][0]! : "",
      executions: 1,
      input_tokens: usage.input,
      output_tokens: usage.output,
      cached_tokens: Math.min(usage.cached, usage.input),
    }));
  rows.sort((a, b) => byBytes(a.group_key, b.group_key) || byBytes(a.model, b.model));
  return toUsageRows(rows, prices);
}

const SUMS = ["executions", "input_tokens", "output_tokens", "cached_tokens"] as const;

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
