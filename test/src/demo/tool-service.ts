import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { createHttpMiddleware, currentContext, InboundTrust, TraceContext } from "@tracehouse/context";
import { TimingPhase } from "@tracehouse/producer";
import type { ExecutionTracker } from "@tracehouse/producer";
import { AgentEventKind } from "@tracehouse/schemas";
import { ToolUnavailableError } from "./errors.js";
import type { Random } from "./random.js";

/** Baggage entry carrying the calling execution's id to the tool service. */
export const PARENT_EXECUTION_BAGGAGE = "parent_execution_id";

export const TOOL_SERVICE_AGENT = "tool-service";

export interface ToolServiceOptions {
  /** The tool service's own tracker (its own producer and tracer: a second service). */
  readonly tracker: ExecutionTracker;
  readonly random: Random;
  /** Share of requests answered 503. */
  readonly failureRate: number;
}

export interface ToolService {
  readonly url: string;
  close(): Promise<void>;
}

export interface ToolResponse {
  readonly executionId: string;
  readonly results: readonly string[];
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/**
 * The "tool service": a real HTTP server on 127.0.0.1. The tracing middleware restores the
 * caller's context from the request headers, and the request's work is recorded as an execution
 * in the caller's trace, child of the calling execution (named in the baggage) and of its client span.
 */
export async function startToolService(options: ToolServiceOptions): Promise<ToolService> {
  const { tracker, random } = options;
  // no span of its own: the execution's span is the server side, child of the client's span;
  // only the platform calls it, so the caller's identity and baggage are trusted
  const traced = createHttpMiddleware({ newSpan: false, inbound: InboundTrust.internal });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const context = currentContext() ?? TraceContext.create();
    const tool = (request.url ?? "/").split("/").pop() ?? "unknown";
    const parentExecutionId = context.baggage.get(PARENT_EXECUTION_BAGGAGE)?.value;
    const body = JSON.parse((await readBody(request)) || "{}") as { query?: string };
    const execution = tracker.startExecution(context, {
      agentName: TOOL_SERVICE_AGENT,
      input: body.query ?? "",
      metadata: { tool },
      ...(parentExecutionId === undefined ? {} : { parentExecutionId }),
    });
    await execution.timing.time(TimingPhase.Initialization, () => delay(random.between(1, 3)));
    const hit = random.chance(0.3);
    execution.recordEvent(AgentEventKind.Custom, "cache_lookup", { status: hit ? "hit" : "miss" });
    if (!hit) {
      const started = performance.now();
      await delay(random.between(8, 25));
      execution.timing.recordDatabaseQuery(performance.now() - started);
    }
    if (random.chance(options.failureRate)) {
      const error = new ToolUnavailableError(`${tool}: search index overloaded, retry later`);
      execution.fail(error, { phase: TimingPhase.DatabaseQuery });
      reply(response, 503, { error: error.message });
      return;
    }
    const results = Array.from(
      { length: random.int(2, 5) },
      (_, i) => `${tool} result ${i + 1} for "${body.query}"`,
    );
    execution.complete({ hits: results.length, cached: hit });
    reply(response, 200, { executionId: execution.executionId, results } satisfies ToolResponse);
  };

  const server = createServer((request, response) =>
    traced(request, response, () => {
      handle(request, response).catch((error: unknown) => reply(response, 500, { error: String(error) }));
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
