import { render } from "preact";
import { Link } from "./Link.js";
import { AgentsPage } from "./pages/Agents.js";
import { ErrorsPage } from "./pages/Errors.js";
import { TracePage } from "./pages/Trace.js";
import { TracesPage } from "./pages/Traces.js";
import { useLocation } from "./router.js";
import "./styles.css";

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
        ) : page === "agents" ? (
          <AgentsPage query={query} />
        ) : page === "errors" ? (
          <ErrorsPage query={query} />
        ) : (
          <TracesPage query={query} />
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
