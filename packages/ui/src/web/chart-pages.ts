// The pages with charts, loaded on demand: uPlot is most of the front end's size, and the trace
// and trace-list pages (the ones a link opens) do not need it.
export { AgentsPage } from "./pages/Agents.js";
export { ErrorsPage } from "./pages/Errors.js";
