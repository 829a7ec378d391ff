import { getJson } from "../api.js";
import type { TracePage } from "../api.js";
import { cost, count, duration, time, tokens } from "../format.js";
import { Link } from "../Link.js";
import { href, navigate, usePolling } from "../router.js";

/** Filter names, as in the URL and the API's query string. */
const FILTERS = [
  "range",
  "agent",
  "user",
  "thread",
  "status",
  "errors",
  "minMs",
  "model",
  "q",
  "sort",
  "order",
  "offset",
] as const;
const RANGES = [
  ["900000", "15 min"],
  ["3600000", "1 hour"],
  ["21600000", "6 hours"],
  ["86400000", "24 hours"],
  ["604800000", "7 days"],
  ["2592000000", "30 days"],
] as const;
const PAGE = 50;

export function TracesPage(props: { query: URLSearchParams }) {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = props.query.get(name);
    if (value !== null && value !== "") params.set(name, value);
  }
  if (!params.has("range")) params.set("range", "86400000");
  params.set("limit", String(PAGE));
  const key = params.toString();
  const { data, error, updatedAt } = usePolling(() => getJson<TracePage>("/api/traces", params), [key]);
  const offset = Number(params.get("offset") ?? 0);
  const go = (changes: Record<string, string | null>): void => {
    const next: Record<string, string | null> = {};
    for (const name of FILTERS) next[name] = props.query.get(name);
    navigate(href("/traces", { ...next, offset: null, ...changes }));
  };
  const submit = (event: Event): void => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const changes: Record<string, string | null> = {};
    for (const name of FILTERS)
      if (name !== "offset") changes[name] = (form.get(name) as string | null) || null;
    go(changes);
  };
  const field = (name: string, label: string, placeholder = "") => (
    <label>
      {label}
      <input name={name} defaultValue={props.query.get(name) ?? ""} placeholder={placeholder} />
    </label>
  );
  return (
    <section>
      <form class="filters" onSubmit={submit} key={props.query.toString()}>
        <label>
          time
          <select name="range" value={params.get("range") ?? ""}>
            {RANGES.map(([value, label]) => (
              <option value={value}>{label}</option>
            ))}
          </select>
        </label>
        {field("agent", "agent")}
        {field("user", "user id")}
        {field("thread", "thread id")}
        {field("model", "model")}
        {field("q", "text", "in inputs, results, errors")}
        <label>
          status
          <select name="status" value={props.query.get("status") ?? ""}>
            <option value="">any</option>
            <option value="running">running</option>
            <option value="completed">completed</option>
            <option value="failed">failed</option>
          </select>
        </label>
        <label>
          errors
          <select name="errors" value={props.query.get("errors") ?? ""}>
            <option value="">any</option>
            <option value="yes">with errors</option>
            <option value="no">without</option>
          </select>
        </label>
        <label>
          min ms
          <input name="minMs" type="number" min="0" defaultValue={props.query.get("minMs") ?? ""} />
        </label>
        <label>
          sort
          <select name="sort" value={props.query.get("sort") ?? ""}>
            <option value="">newest</option>
            <option value="duration">longest</option>
          </select>
        </label>
        <button type="submit">search</button>
      </form>
      {error !== null && <p class="error">{error}</p>}
      <p class="meta">
        {data === null ? "loading…" : `${data.traces.length} traces from ${offset + 1}`}
        {updatedAt !== null && ` · updated ${new Date(updatedAt).toLocaleTimeString()} (refreshes every 5 s)`}
      </p>
      <table class="traces">
        <thead>
          <tr>
            <th>started (UTC)</th>
            <th>trace</th>
            <th>root agent</th>
            <th>user</th>
            <th>status</th>
            <th class="num">duration</th>
            <th>agents</th>
            <th class="num">LLM calls</th>
            <th class="num">tokens in / out</th>
            <th class="num">cost</th>
            <th class="num">errors</th>
          </tr>
        </thead>
        <tbody>
          {data?.traces.map((trace) => (
            <tr class={trace.hasError ? "has-error" : ""} data-trace={trace.traceId}>
              <td>{time(trace.startTimeUs)}</td>
              <td>
                <Link href={`/trace/${trace.traceId}`} class="mono">
                  {trace.traceId.slice(0, 12)}…
                </Link>
              </td>
              <td>{trace.rootAgent ?? "–"}</td>
              <td class="user">{trace.userId ?? "–"}</td>
              <td>
                <span class={`status ${trace.status}`}>{trace.status}</span>
              </td>
              <td class="num">{duration(trace.durationMs)}</td>
              <td class="agents">{trace.agents.join(", ")}</td>
              <td class="num">{count(trace.llmCalls)}</td>
              <td class="num">{tokens(trace.cost)}</td>
              <td class="num cost">{cost(trace.cost)}</td>
              <td class="num">{count(trace.errorCount)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="pager">
        <button disabled={offset === 0} onClick={() => go({ offset: String(Math.max(0, offset - PAGE)) })}>
          ← newer
        </button>
        <button disabled={data?.hasMore !== true} onClick={() => go({ offset: String(offset + PAGE) })}>
          older →
        </button>
      </p>
    </section>
  );
}
