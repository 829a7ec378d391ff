import type { EventEmitter } from "node:events";
import { AsyncContextManager } from "./AsyncContextManager.js";
import type { TraceContext } from "./TraceContext.js";

/** The process-wide manager behind {@link runWithContext} and {@link currentContext}. */
export const defaultContextManager = new AsyncContextManager();

/** Runs `fn` with `context` active in the default manager. */
export function runWithContext<A extends unknown[], R>(
  context: TraceContext,
  fn: (...args: A) => R,
  ...args: A
): R {
  return defaultContextManager.run(context, fn, ...args);
}

/** The active context in the default manager; undefined outside {@link runWithContext}. */
export function currentContext(): TraceContext | undefined {
  return defaultContextManager.active();
}

/** {@link AsyncContextManager.bindEmitter} on the default manager. */
export function bindEmitter<E extends EventEmitter>(emitter: E): E {
  return defaultContextManager.bindEmitter(emitter);
}
