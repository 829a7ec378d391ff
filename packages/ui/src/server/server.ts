import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { TraceQueries } from "@tracehouse/clickhouse";
import type { PriceTable, Sink } from "@tracehouse/clickhouse";
import { ConfigError, isTracehouseError, noopLogger } from "@tracehouse/schemas";
import type { Logger } from "@tracehouse/schemas";
import { handleApi, NotFound } from "./api.js";
import { authorized } from "./auth.js";
import type { UiAuth } from "./auth.js";
import { staticFile, WEB_DIR } from "./static-files.js";

/** Default listen address: loopback only. */
export const DEFAULT_UI_HOST = "127.0.0.1";

export interface UiServerOptions {
  /** Where the trace queries read; the server does not close it. */
  readonly sink: Sink;
  /** Model prices for cost. Default: the built-in defaults. */
  readonly prices?: PriceTable;
  /** Default: 127.0.0.1 (loopback only). */
  readonly host?: string;
  /** Default: 0 (any free port). */
  readonly port?: number;
  /** Default: none (fine on loopback; set one before listening on anything else). */
  readonly auth?: UiAuth;
  /** Built front end. Default: the package's dist/web. */
  readonly webDir?: string;
  /** Default: a logger that drops everything. */
  readonly logger?: Logger;
}

export interface UiServer {
  /** `http://host:port` */
  readonly url: string;
  readonly address: AddressInfo;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
} as const;

function send(
  response: ServerResponse,
  status: number,
  body: string | Buffer,
  type: string,
  cache = "no-store",
  extra: Readonly<Record<string, string>> = {},
): void {
  response.writeHead(status, { ...SECURITY_HEADERS, ...extra, "content-type": type, "cache-control": cache });
  response.end(body);
}

/**
 * A trace page's data, fetched by the browser while it loads the script (the page asks for the
 * same URL, so it gets this response instead of a second request).
 */
function preloadOf(path: string): Record<string, string> {
  const trace = /^\/trace\/([0-9a-f]{32})$/.exec(path);
  return trace === null
    ? {}
    : { link: `</api/traces/${trace[1]}>; rel=preload; as=fetch; crossorigin=anonymous` };
}

const json = (response: ServerResponse, status: number, value: unknown): void =>
  send(response, status, JSON.stringify(value), "application/json; charset=utf-8");

/** Starts the trace explorer: the JSON API under /api and the built front end, on one port. */
export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const queries = new TraceQueries(
    options.sink,
    options.prices === undefined ? {} : { prices: options.prices },
  );
  const auth = options.auth ?? { kind: "none" };
  const logger = options.logger ?? noopLogger;
  const webDir = options.webDir ?? WEB_DIR;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (!authorized(auth, request)) {
      response.writeHead(401, {
        ...SECURITY_HEADERS,
        "www-authenticate": auth.kind === "basic" ? 'Basic realm="tracehouse"' : "Bearer",
        "content-type": "text/plain; charset=utf-8",
      });
      response.end("unauthorized\n");
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      json(response, 405, { error: "only GET" });
      return;
    }
    const url = new URL(request.url ?? "/", "http://localhost");
    if (url.pathname.startsWith("/api/")) {
      try {
        json(response, 200, await handleApi(queries, url.pathname, url.searchParams));
      } catch (error) {
        if (error instanceof NotFound) json(response, 404, { error: error.message });
        else if (error instanceof ConfigError) json(response, 400, { error: error.message });
        else {
          logger.error("ui api request failed", {
            path: url.pathname,
            error: error instanceof Error ? error.message : String(error),
            retriable: isTracehouseError(error) ? error.retriable : null,
          });
          json(response, 500, { error: "query failed" });
        }
      }
      return;
    }
    if (url.pathname === "/favicon.ico") {
      response.writeHead(204, SECURITY_HEADERS);
      response.end();
      return;
    }
    const file = await staticFile(url.pathname, webDir);
    if (file === null) {
      send(response, 404, "not found\n", "text/plain; charset=utf-8");
      return;
    }
    send(
      response,
      200,
      file.body,
      file.type,
      file.immutable ? "public, max-age=31536000, immutable" : "no-cache",
      preloadOf(url.pathname),
    );
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error("ui request failed", { error: error instanceof Error ? error.message : String(error) });
      if (!response.headersSent) json(response, 500, { error: "internal error" });
      else response.destroy();
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  const host = options.host ?? DEFAULT_UI_HOST;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  logger.info("trace explorer listening", { url: `http://${shownHost}:${address.port}` });
  return {
    url: `http://${shownHost}:${address.port}`,
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
