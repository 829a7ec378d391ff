import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { reportOnce } from "./internal/report.js";
import { repoRoot } from "./internal/repo.js";

export type JaegerSource = "env" | "local";

export interface JaegerService {
  /** Base URL of the query service (`/api/traces/<id>`, `/api/services`). */
  readonly queryUrl: string;
  /** Full OTLP/HTTP traces URL (`…/v1/traces`). */
  readonly otlpTracesUrl: string;
  readonly source: JaegerSource;
}

/** One span as Jaeger's query API returns it. */
export interface JaegerSpan {
  readonly traceID: string;
  readonly spanID: string;
  readonly operationName: string;
  readonly references: readonly {
    readonly refType: string;
    readonly traceID: string;
    readonly spanID: string;
  }[];
  readonly tags: readonly { readonly key: string; readonly type: string; readonly value: unknown }[];
  readonly logs: readonly {
    readonly timestamp: number;
    readonly fields: readonly { readonly key: string; readonly value: unknown }[];
  }[];
  readonly processID: string;
  readonly warnings: readonly string[] | null;
}

export interface JaegerTrace {
  readonly traceID: string;
  readonly spans: readonly JaegerSpan[];
  readonly processes: Readonly<
    Record<
      string,
      { readonly serviceName: string; readonly tags: readonly { key: string; value: unknown }[] }
    >
  >;
  readonly warnings: readonly string[] | null;
}

const LOCAL_PORT = Number(process.env["JAEGER_PORT"] ?? "16686");

let service: Promise<JaegerService> | undefined;

/**
 * A real Jaeger v2 for tests: `JAEGER_URL` (query base URL) with `JAEGER_OTLP_URL` (OTLP/HTTP
 * base URL) from the environment, else the repo's local Jaeger (infra/jaeger/start.sh, which
 * builds the binary once per machine — minutes when cold — and starts it on `JAEGER_PORT`).
 * Fails with a clear message when neither can be had; never skips.
 */
export function useJaeger(): Promise<JaegerService> {
  service ??= resolveJaeger();
  return service;
}

async function resolveJaeger(): Promise<JaegerService> {
  const queryUrl = process.env["JAEGER_URL"];
  if (queryUrl) {
    const otlp = process.env["JAEGER_OTLP_URL"];
    if (!otlp)
      throw new Error("testkit: JAEGER_URL is set but JAEGER_OTLP_URL (its OTLP/HTTP base URL) is not");
    reportOnce(`Jaeger: JAEGER_URL=${queryUrl}, JAEGER_OTLP_URL=${otlp} (from the environment)`);
    return { queryUrl: trimSlash(queryUrl), otlpTracesUrl: `${trimSlash(otlp)}/v1/traces`, source: "env" };
  }
  const script = join(repoRoot(), "infra", "jaeger", "start.sh");
  const run = spawnSync("bash", [script], {
    encoding: "utf8",
    env: { ...process.env, JAEGER_PORT: String(LOCAL_PORT) },
  });
  if (run.status !== 0) {
    throw new Error(
      `testkit: no Jaeger available. JAEGER_URL is not set and ${script} exited ${run.status}:\n` +
        `${run.stdout}\n${run.stderr}`,
    );
  }
  const value = (name: string): string => {
    const line = run.stdout.split("\n").find((l) => l.startsWith(`${name}=`));
    if (line === undefined) throw new Error(`testkit: ${script} did not print ${name}:\n${run.stdout}`);
    return line.slice(name.length + 1).trim();
  };
  const service: JaegerService = {
    queryUrl: value("JAEGER_URL"),
    otlpTracesUrl: `${value("JAEGER_OTLP_HTTP_URL")}/v1/traces`,
    source: "local",
  };
  reportOnce(
    `Jaeger: local ${service.queryUrl} (infra/jaeger/start.sh; stop it with JAEGER_PORT=${LOCAL_PORT} bash infra/jaeger/stop.sh)`,
  );
  return service;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/**
 * Polls `/api/traces/<traceId>` until the trace holds at least `minSpans` spans (Jaeger
 * stores what its batch processor hands on, a moment after the export), then returns it.
 */
export async function fetchJaegerTrace(
  traceId: string,
  options: { readonly minSpans?: number; readonly timeoutMs?: number } = {},
): Promise<JaegerTrace> {
  const { queryUrl } = await useJaeger();
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let last = "no answer";
  for (;;) {
    const response = await fetch(`${queryUrl}/api/traces/${traceId}`);
    const body = (await response.json()) as { data?: JaegerTrace[] | null; errors?: unknown };
    const found = body.data?.[0];
    if (response.ok && found !== undefined && found.spans.length >= (options.minSpans ?? 1)) return found;
    last = `${response.status}, ${found?.spans.length ?? 0} spans, errors ${JSON.stringify(body.errors ?? null)}`;
    if (Date.now() > deadline) throw new Error(`testkit: trace ${traceId} not complete in Jaeger: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
