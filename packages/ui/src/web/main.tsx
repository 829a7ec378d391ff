import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import type * as ChartPagesModule from "./chart-pages.js";
import { Link } from "./Link.js";
import { TracePage } from "./pages/Trace.js";
import { TracesPage } from "./pages/Traces.js";
import { useLocation } from "./router.js";
import "./styles.css";

type ChartPages = typeof ChartPagesModule;

/** The Agents or Errors page, once its chunk (with the charting library) has loaded. */
function ChartPage(props: { page: "agents" | "errors"; query: URLSearchParams }) {
  const [pages, setPages] = useState<ChartPages | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    import("./chart-pages.js").then(setPages, (error: unknown) => setFailed(String(error)));
  }, []);
  if (failed !== null) return <p class="error">{failed}</p>;
  if (pages === null) return <p class="meta">loading…</p>;
  const Page = props.page === "agents" ? pages.AgentsPage : pages.ErrorsPage;
  return <Page query={props.query} />;
}

function App() {
  const { path, query } = useLocation();
  const trace = /^\/trace\/([^/]+)/.exec(path);
  const page =
    trace !== null
      ? "traces"
      : path.startsWith("/agents")
        ? "agents"
        : path.startsWith("/errors")
          ? "errors"
          : "traces";
  return (
    <>
      <header>
        <strong>tracehouse</strong>
        <nav>
          <Link href="/traces" class={page === "traces" ? "active" : ""}>
            Traces
          </Link>
          <Link href="/agents" class={page === "agents" ? "active" : ""}>
            Agents
          </Link>
          <Link href="/errors" class={page === "errors" ? "active" : ""}>
            Errors
          </Link>
        </nav>
      </header>
      <main>
        {trace !== null ? (
          <TracePage traceId={decodeURIComponent(trace[1]!)} query={query} />
        ) : page === "agents" || page === "errors" ? (
          <ChartPage page={page} query={query} />
        ) : (
          <TracesPage query={query} />
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
