export { startUiServer, DEFAULT_UI_HOST } from "./server.js";
export type { UiServer, UiServerOptions } from "./server.js";
export { parseAuth, authorized } from "./auth.js";
export type { UiAuth } from "./auth.js";
export { traceListFrom, rangeFrom } from "./params.js";
export type { TraceView } from "./api.js";
