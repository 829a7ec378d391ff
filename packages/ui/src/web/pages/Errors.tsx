import { getJson } from "../api.js";
import type { ErrorsView } from "../api.js";
import { Chart } from "../Chart.js";
import { count, time } from "../format.js";
import { hoursOf } from "./Agents.js";
import { Link } from "../Link.js";
import { href, navigate, usePolling } from "../router.js";

const RANGES = [
  ["3600000", "1 hour"],
  ["86400000", "24 hours"],
  ["604800000", "7 days"],
  ["2592000000", "30 days"],
] as const;

export function ErrorsPage(props: { query: URLSearchParams }) {
  const range = props.query.get("range") ?? "86400000";
  const { data, error } = usePolling(
    () => getJson<ErrorsView>("/api/errors", new URLSearchParams({ range })),
    [range],
    10_000,
  );
  const series = (() => {
    if (data === null) return { times: [] as number[], series: [], range: [0, 1] as const };
    const hours = hoursOf(data.from, data.to);
    const keys = [...new Set(data.hourly.map((row) => `${row.agentName ?? "–"} · ${row.errorClass}`))].sort();
    return {
      times: hours,
      series: keys.map((key) => ({
        label: key,
        values: hours.map(
          (hour) =>
            data.hourly.find(
              (r) => `${r.agentName ?? "–"} · ${r.errorClass}` === key && Date.parse(r.hour) / 1000 === hour,
            )?.errors ?? 0,
        ),
      })),
      range: [Date.parse(data.from) / 1000, Date.parse(data.to) / 1000] as const,
    };
  })();
  return (
    <section>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          time
          <select
            value={range}
            onChange={(e) =>
              navigate(href("/errors", { range: (e.currentTarget as HTMLSelectElement).value }))
            }
          >
            {RANGES.map(([value, label]) => (
              <option value={value}>{label}</option>
            ))}
          </select>
        </label>
      </form>
      {error !== null && <p class="error">{error}</p>}
      {data === null ? (
        <p class="meta">loading…</p>
      ) : (
        <>
          <div class="charts">
            <Chart title="errors per hour by agent and class" {...series} />
          </div>
          <table class="errors">
            <thead>
              <tr>
                <th>agent</th>
                <th>class</th>
                <th>severity</th>
                <th class="num">errors</th>
                <th class="num">retriable</th>
                <th class="num">traces</th>
                <th>last seen (UTC)</th>
                <th>latest message</th>
                <th>example traces</th>
              </tr>
            </thead>
            <tbody>
              {data.summary.map((row) => (
                <tr>
                  <td>{row.agentName ?? "–"}</td>
                  <td class="error-class">{row.errorClass}</td>
                  <td>{row.severity}</td>
                  <td class="num">{count(row.errors)}</td>
                  <td class="num">{count(row.retriableErrors)}</td>
                  <td class="num">{count(row.traces)}</td>
                  <td>{time(row.lastSeenUs)}</td>
                  <td class="error-message">{row.sampleMessage}</td>
                  <td>
                    {data.examples
                      .filter((e) => e.agentName === row.agentName && e.errorClass === row.errorClass)
                      .map((e) => (
                        <Link
                          href={href(`/trace/${e.traceId}`, { sel: e.executionId })}
                          class="mono example"
                          title={e.message}
                        >
                          {e.traceId.slice(0, 8)}
                        </Link>
                      ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
