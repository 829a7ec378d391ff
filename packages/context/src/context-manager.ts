import type { TraceContext } from "./TraceContext.js";

/**
 * Where the active trace context lives in a process. Libraries depend on this interface;
 * {@link AsyncContextManager} is the Node.js implementation.
 */
export interface ContextManager {
  /** The context of the running code, or undefined outside any context. */
  active(): TraceContext | undefined;
  /** Runs `fn` with `context` active, including every asynchronous continuation it starts. */
  run<A extends unknown[], R>(context: TraceContext, fn: (...args: A) => R, ...args: A): R;
}
