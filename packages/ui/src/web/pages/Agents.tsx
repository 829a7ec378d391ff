import { getJson } from "../api.js";
import type { AgentsView } from "../api.js";
import { Chart } from "../Chart.js";
import type { Series } from "../Chart.js";
import { cost, count, duration, time, tokens } from "../format.js";
import { Link } from "../Link.js";
import { href, navigate, usePolling } from "../router.js";

const RANGES = [
  ["3600000", "1 hour"],
  ["21600000", "6 hours"],
  ["86400000", "24 hours"],
  ["604800000", "7 days"],
  ["2592000000", "30 days"],
] as const;

/** Every hour of the window, in epoch seconds. */
export function hoursOf(from: string, to: string): number[] {
  const hours: number[] = [];
  for (let h = Math.floor(Date.parse(from) / 3_600_000) * 3600; h * 1000 < Date.parse(to); h += 3600)
    hours.push(h);
  return hours;
}

/** One series per agent of `pick(row)` over the window's hours; `empty` where an agent has no row. */
function perAgent(
  view: AgentsView,
  pick: (row: AgentsView["hourly"][number]) => number | null,
  empty: number | null = 0,
) {
  const hours = hoursOf(view.from, view.to);
  const agents = [...new Set(view.hourly.map((row) => row.agentName))].sort();
  const series: Series[] = agents.map((agent) => ({
    label: agent,
    values: hours.map((hour) => {
      const row = view.hourly.find((r) => r.agentName === agent && Date.parse(r.hour) / 1000 === hour);
      return row === undefined ? empty : pick(row);
    }),
  }));
  return { times: hours, series, range: [Date.parse(view.from) / 1000, Date.parse(view.to) / 1000] as const };
}

export function AgentsPage(props: { query: URLSearchParams }) {
  const range = props.query.get("range") ?? "86400000";
  const agent = props.query.get("agent") ?? "";
  const params = new URLSearchParams({ range });
  if (agent !== "") params.set("agent", agent);
  const { data, error } = usePolling(
    () => getJson<AgentsView>("/api/agents", params),
    [range, agent],
    10_000,
  );
  const set = (changes: Record<string, string>): void =>
    navigate(href("/agents", { range, agent, ...changes }));
  return (
    <section>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          time
          <select
            value={range}
            onChange={(e) => set({ range: (e.currentTarget as HTMLSelectElement).value })}
          >
            {RANGES.map(([value, label]) => (
              <option value={value}>{label}</option>
            ))}
          </select>
        </label>
        <label>
          agent
          <input
            defaultValue={agent}
            key={agent}
            onChange={(e) => set({ agent: (e.currentTarget as HTMLInputElement).value })}
            placeholder="all"
          />
        </label>
      </form>
      {error !== null && <p class="error">{error}</p>}
      {data === null ? (
        <p class="meta">loading…</p>
      ) : (
        <>
          <table class="agents">
            <thead>
              <tr>
                <th>agent</th>
                <th class="num">executions</th>
                <th class="num">failure rate</th>
                <th class="num">p50</th>
                <th class="num">p95</th>
                <th class="num">p99</th>
                <th class="num">TTFT p50</th>
                <th class="num">TTFT p95</th>
                <th class="num">TTFT p99</th>
                <th class="num">tokens in / out</th>
                <th class="num">cost</th>
              </tr>
            </thead>
            <tbody>
              {data.agents.map((a) => (
                <tr>
                  <td>
                    <Link href={href("/traces", { agent: a.agentName, range })}>{a.agentName}</Link>
                  </td>
                  <td class="num">{count(a.started)}</td>
                  <td class="num">
                    {a.finished === 0 ? "–" : `${((a.failures / a.finished) * 100).toFixed(1)} %`}
                  </td>
                  <td class="num">{duration(a.latencyMs.p50)}</td>
                  <td class="num">{duration(a.latencyMs.p95)}</td>
                  <td class="num">{duration(a.latencyMs.p99)}</td>
                  <td class="num">{duration(a.timeToFirstTokenMs.p50)}</td>
                  <td class="num">{duration(a.timeToFirstTokenMs.p95)}</td>
                  <td class="num">{duration(a.timeToFirstTokenMs.p99)}</td>
                  <td class="num">{tokens(a.cost)}</td>
                  <td class="num">{cost(a.cost)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div class="charts">
            <Chart title="executions per hour" {...perAgent(data, (r) => r.started)} />
            <Chart
              title="failure rate per hour (%)"
              {...perAgent(data, (r) => (r.finished === 0 ? null : (r.failures / r.finished) * 100), null)}
            />
            <Chart title="latency p95 (ms)" {...perAgent(data, (r) => r.latencyMs.p95, null)} />
            <Chart title="latency p50 (ms)" {...perAgent(data, (r) => r.latencyMs.p50, null)} />
            <Chart
              title="time to first token p95 (ms)"
              {...perAgent(data, (r) => r.timeToFirstTokenMs.p95, null)}
            />
            <Chart
              title="tokens per hour (in + out)"
              {...perAgent(data, (r) => r.cost.inputTokens + r.cost.outputTokens)}
            />
            <Chart title="cost per hour (USD, priced tokens)" {...perAgent(data, (r) => r.cost.costUsd)} />
          </div>
          <h3>slowest executions</h3>
          <table class="slowest">
            <thead>
              <tr>
                <th>ended (UTC)</th>
                <th>agent</th>
                <th>execution</th>
                <th>outcome</th>
                <th class="num">duration</th>
              </tr>
            </thead>
            <tbody>
              {data.slowest.map((s) => (
                <tr>
                  <td>{time(s.endedAtUs)}</td>
                  <td>{s.agentName ?? "–"}</td>
                  <td>
                    <Link href={href(`/trace/${s.traceId}`, { sel: s.executionId })} class="mono">
                      {s.executionId}
                    </Link>
                  </td>
                  <td>{s.lifecycle}</td>
                  <td class="num">{duration(s.durationMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
