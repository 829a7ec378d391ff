import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface Probe {
  readonly ok: boolean;
  readonly [detail: string]: unknown;
}

export interface HealthProbes {
  live(): Probe;
  ready(): Probe;
}

export interface HealthServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** `/healthz` (liveness), `/readyz` (readiness) as JSON with 200 or 503, and `/metrics` for Prometheus. */
export async function startHealthServer(
  host: string,
  port: number,
  probes: HealthProbes,
  registry: Registry,
): Promise<HealthServer> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    const answer = (status: number, contentType: string, body: string): void => {
      response.writeHead(status, { "content-type": contentType, "cache-control": "no-store" });
      response.end(request.method === "HEAD" ? undefined : body);
    };
    if (request.method !== "GET" && request.method !== "HEAD") {
      answer(405, "text/plain", "method not allowed\n");
      return;
    }
    if (path === "/healthz" || path === "/readyz") {
      const probe = path === "/healthz" ? probes.live() : probes.ready();
      answer(probe.ok ? 200 : 503, "application/json", JSON.stringify(probe) + "\n");
      return;
    }
    if (path === "/metrics") {
      registry.metrics().then(
        (text) => answer(200, registry.contentType, text),
        (error: unknown) => answer(500, "text/plain", `${String(error)}\n`),
      );
      return;
    }
    answer(404, "text/plain", "not found: try /healthz, /readyz or /metrics\n");
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
