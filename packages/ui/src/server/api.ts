import type { TraceQueries, TraceTree } from "@tracehouse/clickhouse";
import { ConfigError } from "@tracehouse/schemas";
import { rangeFrom, TRACE_ID, traceListFrom } from "./params.js";

export class NotFound extends Error {}

/** A trace with whether it is still running (some execution has not completed or failed). */
export interface TraceView extends TraceTree {
  readonly running: boolean;
}

function running(tree: TraceTree): boolean {
  const stack = [...tree.roots];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.lifecycle !== null && node.lifecycle !== "COMPLETED" && node.lifecycle !== "FAILED") return true;
    stack.push(...node.children);
  }
  return false;
}

/** The JSON API: each route maps a path and query string onto one family of trace queries. */
export async function handleApi(
  queries: TraceQueries,
  path: string,
  query: URLSearchParams,
): Promise<unknown> {
  if (path === "/api/traces") return queries.listTraces(traceListFrom(query));
  const trace = /^\/api\/traces\/([^/]+)$/.exec(path);
  if (trace !== null) {
    const id = decodeURIComponent(trace[1]!).toLowerCase();
    if (!TRACE_ID.test(id)) throw new ConfigError("a trace id is 32 hexadecimal characters");
    const tree = await queries.getTrace(id);
    if (tree === null) throw new NotFound(`trace ${id} not found`);
    return { ...tree, running: running(tree) } satisfies TraceView;
  }
  if (path === "/api/agents") {
    const range = rangeFrom(query, Date.now(), 86_400_000);
    const agent = query.get("agent") ?? undefined;
    const options = agent === undefined || agent === "" ? range : { ...range, agent };
    const [{ agents, hourly }, slowest] = await Promise.all([
      queries.agentCostOverview(options),
      queries.slowestExecutions({ ...options, limit: 20 }),
    ]);
    return { from: range.from, to: range.to, agents, hourly, slowest };
  }
  if (path === "/api/errors") {
    const range = rangeFrom(query, Date.now(), 86_400_000);
    const [summary, hourly, examples] = await Promise.all([
      queries.errorSummary(range),
      queries.errorHourly(range),
      queries.errorExamples({ ...range, perGroup: 3 }),
    ]);
    return { from: range.from, to: range.to, summary, hourly, examples };
  }
  if (path === "/api/prices") {
    return Object.fromEntries(queries.prices);
  }
  throw new NotFound(`no API at ${path}`);
}
