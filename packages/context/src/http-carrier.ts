import { defaultContextManager } from "./async-context.js";
import type { ContextManager } from "./context-manager.js";
import type { HeaderCarrier } from "./header-carrier.js";
import {
  applyInboundPolicy,
  resolveInboundPolicy,
  type InboundConfig,
  type InboundPolicy,
} from "./inbound-policy.js";
import { isTraceHeaderName } from "./internal/carrier.js";
import { TraceContext } from "./TraceContext.js";

/** Outgoing headers: a fetch `Headers`, a node:http `ClientRequest`/`OutgoingMessage`, or a plain record. */
export type HttpHeaderTarget =
  | { set(name: string, value: string): unknown }
  | { setHeader(name: string, value: string): unknown }
  | Record<string, unknown>;

/**
 * Writes the context's `traceparent`, `tracestate` and `baggage` into outgoing request
 * headers and returns the same target. In a plain record, an existing trace header of the
 * same name in another case is removed first so the request never carries two.
 */
export function injectHttpHeaders<T extends HttpHeaderTarget>(context: TraceContext, headers: T): T {
  const trace = context.toHeaders();
  const entries: [string, string][] = [["traceparent", trace.traceparent]];
  if (trace.tracestate !== undefined) entries.push(["tracestate", trace.tracestate]);
  if (trace.baggage !== undefined) entries.push(["baggage", trace.baggage]);
  if (typeof (headers as { set?: unknown }).set === "function") {
    const target = headers as { set(name: string, value: string): unknown; delete?(name: string): unknown };
    if (trace.tracestate === undefined) target.delete?.("tracestate");
    if (trace.baggage === undefined) target.delete?.("baggage");
    for (const [name, value] of entries) target.set(name, value);
  } else if (typeof (headers as { setHeader?: unknown }).setHeader === "function") {
    const target = headers as {
      setHeader(name: string, value: string): unknown;
      removeHeader?(name: string): unknown;
    };
    if (trace.tracestate === undefined) target.removeHeader?.("tracestate");
    if (trace.baggage === undefined) target.removeHeader?.("baggage");
    for (const [name, value] of entries) target.setHeader(name, value);
  } else {
    const target = headers as Record<string, unknown>;
    for (const name of Object.keys(target)) if (isTraceHeaderName(name)) delete target[name];
    for (const [name, value] of entries) target[name] = value;
  }
  return headers;
}

/** An Express-style `next`. */
export type NextFunction = (error?: unknown) => void;

/** The request shape the middleware needs: node:http `IncomingMessage`, Express, and similar. */
export interface HttpRequestLike {
  readonly headers: HeaderCarrier;
}

export interface HttpMiddlewareOptions {
  /** Where the context is made active. Default: the process-wide {@link defaultContextManager}. */
  readonly contextManager?: ContextManager;
  /**
   * Run the handler in a new span whose parent is the caller's span (the server side of
   * the call). Default: true. Without an incoming trace the new trace's root span is used.
   */
  readonly newSpan?: boolean;
  /** Called with the request's context before the rest of the handler runs. Default: none. */
  readonly onContext?: (context: TraceContext, request: HttpRequestLike) => void;
  /**
   * What is taken from the caller's context. Default: {@link InboundTrust.publicEdge}: the
   * caller's identity baggage and sampled flag are ignored and none of its baggage is passed
   * on. Use {@link InboundTrust.internal} where only your own services call.
   */
  readonly inbound?: InboundPolicy;
}

interface HttpMiddlewareConfig {
  readonly contextManager: ContextManager;
  readonly newSpan: boolean;
  readonly onContext: ((context: TraceContext, request: HttpRequestLike) => void) | undefined;
  readonly inbound: InboundConfig;
}

function resolveHttpMiddlewareOptions(options: HttpMiddlewareOptions): HttpMiddlewareConfig {
  return Object.freeze({
    contextManager: options.contextManager ?? defaultContextManager,
    newSpan: options.newSpan ?? true,
    onContext: options.onContext,
    inbound: resolveInboundPolicy(options.inbound),
  });
}

/** How {@link contextFromHttpRequest} reads a request: the middleware's `newSpan` and `inbound`. */
export type HttpRequestContextOptions = Pick<HttpMiddlewareOptions, "newSpan" | "inbound">;

/**
 * The context a server handles a request in, per the middleware's `newSpan` and `inbound`
 * rules (defaults as there). Throws ConfigError on an invalid `inbound` policy only.
 */
export function contextFromHttpRequest(
  request: HttpRequestLike,
  options: HttpRequestContextOptions = {},
): TraceContext {
  return requestContext(request, options.newSpan ?? true, resolveInboundPolicy(options.inbound));
}

function requestContext(request: HttpRequestLike, newSpan: boolean, inbound: InboundConfig): TraceContext {
  const incoming = applyInboundPolicy(TraceContext.fromHeaders(request.headers), inbound);
  return newSpan && incoming.isRemote ? incoming.child() : incoming;
}

/**
 * A middleware for node:http and Express-style stacks: reads the trace context from the
 * request headers, applies the `inbound` policy (by default that of a public edge), and
 * runs `next` (the rest of the handler) with that context active. Throws ConfigError on
 * invalid options.
 *
 * ```ts
 * const traced = createHttpMiddleware();
 * http.createServer((req, res) => traced(req, res, () => handle(req, res)));
 * app.use(traced); // Express
 * ```
 */
export function createHttpMiddleware(
  options: HttpMiddlewareOptions = {},
): (request: HttpRequestLike, response: unknown, next: NextFunction) => void {
  const config = resolveHttpMiddlewareOptions(options);
  return (request, _response, next) => {
    const context = requestContext(request, config.newSpan, config.inbound);
    config.onContext?.(context, request);
    config.contextManager.run(context, next);
  };
}
