import { useState } from "preact/hooks";
import { getJson } from "../api.js";
import type { ExecutionNode, StoredRecord, TraceView } from "../api.js";
import { cost, count, duration, time, tokens, usd } from "../format.js";
import { Link } from "../Link.js";
import { href, navigate, usePolling } from "../router.js";
import { waterfallRows } from "../waterfall.js";
import type { Row } from "../waterfall.js";

const PHASES = [
  ["initialization_ms", "initialization"],
  ["tool_execution_ms", "tools"],
  ["llm_processing_ms", "LLM"],
  ["websocket_notification_ms", "WebSocket"],
  ["queue_wait_ms", "queue wait"],
  ["database_query_ms", "database"],
  ["external_api_ms", "external API"],
  ["time_to_first_token_ms", "time to first token"],
  ["total_ms", "total"],
] as const;

const shown = (value: unknown): string =>
  value === null || value === undefined
    ? "–"
    : typeof value === "object"
      ? JSON.stringify(value)
      : String(value);

function Fields(props: { record: Readonly<Record<string, unknown>> }) {
  return (
    <dl class="fields">
      {Object.entries(props.record).map(([key, value]) => (
        <>
          <dt>{key}</dt>
          <dd>{shown(value)}</dd>
        </>
      ))}
    </dl>
  );
}

function ErrorBlock(props: { error: StoredRecord }) {
  const e = props.error;
  return (
    <div class="error-block">
      <p>
        <strong class="error-class">{shown(e["error_class"])}</strong> · {shown(e["severity"])}
        {e["code"] != null && ` · code ${shown(e["code"])}`}
        {e["phase"] != null && ` · phase ${shown(e["phase"])}`}
        {e["retriable"] === true && " · retriable"}
      </p>
      <p class="error-message">{shown(e["message"])}</p>
      {e["stack"] != null && <pre class="stack">{shown(e["stack"])}</pre>}
    </div>
  );
}

function ExecutionDetail(props: { node: ExecutionNode }) {
  const n = props.node;
  const phases = PHASES.map(([column, label]) => {
    let total: number | null = null;
    for (const m of n.metrics)
      if (typeof m[column] === "number") total = (total ?? 0) + (m[column] as number);
    return { label, total };
  });
  return (
    <div>
      <h3>
        {n.agentName ?? "(unnamed agent)"} <span class="mono small">{n.executionId}</span>
      </h3>
      <p>
        {n.lifecycle ?? "?"} · {n.status ?? "?"} · {duration(n.durationMs)}
        {n.relationship !== null && ` · ${n.relationship} of ${n.parentExecutionId ?? "?"}`}
      </p>
      {n.errorMessage !== null && <p class="error-message detail-error">{n.errorMessage}</p>}
      <h4>input</h4>
      <pre class="summary">{n.inputSummary ?? "–"}</pre>
      <h4>result</h4>
      <pre class="summary">{n.resultSummary ?? "–"}</pre>
      <h4>tokens and cost</h4>
      <table class="small-table">
        <thead>
          <tr>
            <th>model</th>
            <th class="num">in</th>
            <th class="num">cached</th>
            <th class="num">out</th>
            <th class="num">cost</th>
          </tr>
        </thead>
        <tbody>
          {n.cost.byModel.map((m) => (
            <tr>
              <td>{m.model ?? "(unknown or several models)"}</td>
              <td class="num">{count(m.inputTokens)}</td>
              <td class="num">{count(m.cachedInputTokens)}</td>
              <td class="num">{count(m.outputTokens)}</td>
              <td class="num model-cost">{m.costUsd === null ? "no price" : usd(m.costUsd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>phases</h4>
      <table class="small-table phases">
        <tbody>
          {phases.map((p) => (
            <tr>
              <td>{p.label}</td>
              <td class="num">{duration(p.total)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {n.errors.length > 0 && <h4>errors</h4>}
      {n.errors.map((e) => (
        <ErrorBlock error={e} />
      ))}
      <h4>identity</h4>
      <Fields
        record={{
          user_id: n.userId,
          thread_id: n.threadId,
          span_id: n.spanId,
          started: n.startedAtUs === null ? null : time(n.startedAtUs),
        }}
      />
      {n.metrics[0] !== undefined && (
        <>
          <h4>metadata</h4>
          <Fields record={n.metrics[0].metadata} />
        </>
      )}
    </div>
  );
}

function Detail(props: { row: Row; link: string }) {
  const { row } = props;
  return (
    <aside class="detail" data-selected={row.id}>
      <p class="small">
        link to this item: <a href={props.link}>{props.link}</a>
      </p>
      {row.node !== null ? (
        <ExecutionDetail node={row.node} />
      ) : (
        <div>
          <h3>{row.label}</h3>
          <p>
            {duration(row.endUs === null ? null : (row.endUs - row.startUs) / 1000)}
            {row.markUs !== null && ` · first token after ${duration((row.markUs - row.startUs) / 1000)}`}
            {row.running && " · still running"}
          </p>
          {row.records.map((record) =>
            record["error_class"] !== undefined ? <ErrorBlock error={record} /> : <Fields record={record} />,
          )}
        </div>
      )}
    </aside>
  );
}

export function TracePage(props: { traceId: string; query: URLSearchParams }) {
  const { data, error, updatedAt } = usePolling(
    () => getJson<TraceView>(`/api/traces/${encodeURIComponent(props.traceId)}`),
    [props.traceId],
    3000,
  );
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const selected = props.query.get("sel");
  if (error !== null && data === null) return <p class="error">{error}</p>;
  if (data === null) return <p class="meta">loading…</p>;
  const nowUs = Date.now() * 1000;
  const rows = waterfallRows(data, data.running ? nowUs : 0);
  const start = data.summary.startTimeUs;
  const end = Math.max(data.summary.endTimeUs, data.running ? nowUs : 0, start + 1);
  const span = end - start;
  const pct = (us: number): number => ((us - start) / span) * 100;
  const visible = rows.filter((row) => !row.parents.some((p) => collapsed.has(p)));
  const selectedRow = rows.find((row) => row.id === selected) ?? null;
  const linkTo = (id: string): string => `${location.origin}${href(`/trace/${props.traceId}`, { sel: id })}`;
  const toggle = (id: string): void => {
    const next = new Set(collapsed);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setCollapsed(next);
  };
  return (
    <section class="trace">
      <h2>
        trace <span class="mono">{data.summary.traceId}</span>{" "}
        {data.running && <span class="status running">running</span>}
        {data.summary.hasError && <span class="status failed">has errors</span>}
      </h2>
      <p class="meta">
        {time(start)} UTC · {duration(data.summary.durationMs)} · {data.summary.executionCount} executions ·{" "}
        {data.summary.eventCount} events · {data.summary.errorCount} errors · {data.summary.spanCount} spans ·
        user <span class="user">{data.summary.userId ?? "–"}</span> · tokens{" "}
        <span class="trace-tokens">{tokens(data.cost)}</span> · cost{" "}
        <span class="trace-cost">{cost(data.cost)}</span>
        {updatedAt !== null && ` · updated ${new Date(updatedAt).toLocaleTimeString()}`}
      </p>
      <div class="trace-body">
        <div class="waterfall" role="tree">
          {visible.map((row) => {
            const left = pct(row.startUs);
            const right = row.endUs === null ? null : pct(row.endUs);
            const hasChildren = row.kind === "execution" && rows.some((r) => r.parents.includes(row.id));
            return (
              <div
                class={`wf-row ${row.kind}${row.failed ? " failed" : ""}${row.id === selected ? " selected" : ""}`}
                data-id={row.id}
                data-depth={row.depth}
                role="treeitem"
                onClick={() => navigate(href(`/trace/${props.traceId}`, { sel: row.id }), true)}
              >
                <div class="wf-label" style={{ paddingLeft: `${row.depth * 16 + 4}px` }}>
                  {hasChildren ? (
                    <button
                      class="toggle"
                      aria-label={collapsed.has(row.id) ? "expand" : "collapse"}
                      onClick={(event) => {
                        event.stopPropagation();
                        toggle(row.id);
                      }}
                    >
                      {collapsed.has(row.id) ? "▸" : "▾"}
                    </button>
                  ) : (
                    <span class="toggle-space" />
                  )}
                  <span class="wf-name">{row.label}</span>
                </div>
                <div class="wf-track">
                  <div
                    class={`wf-bar${row.running ? " running" : ""}${right === null ? " point" : ""}`}
                    style={{
                      left: `${left}%`,
                      width: right === null ? undefined : `${Math.max(0.3, right - left)}%`,
                    }}
                  >
                    {row.markUs !== null && (
                      <span
                        class="ttft"
                        style={{
                          left: `${((row.markUs - row.startUs) / Math.max(1, (row.endUs ?? row.markUs) - row.startUs)) * 100}%`,
                        }}
                        title="first token"
                      />
                    )}
                  </div>
                </div>
                <span class="wf-duration">
                  {row.endUs === null
                    ? row.running
                      ? "running"
                      : ""
                    : duration((row.endUs - row.startUs) / 1000)}
                </span>
              </div>
            );
          })}
        </div>
        {selectedRow !== null ? (
          <Detail row={selectedRow} link={linkTo(selectedRow.id)} />
        ) : (
          <aside class="detail meta">select a row for its details</aside>
        )}
      </div>
      <p>
        <Link href="/traces">← all traces</Link>
      </p>
    </section>
  );
}
