import { AsyncLocalStorage } from "node:async_hooks";
import type { EventEmitter } from "node:events";
import type { ContextManager } from "./context-manager.js";
import { patchEmitter } from "./internal/emitter-binding.js";
import type { TraceContext } from "./TraceContext.js";

/**
 * The active trace context on Node.js, kept in an `AsyncLocalStorage`: it follows
 * promises/await, timers, `setImmediate`, `process.nextTick` and I/O callbacks started
 * inside {@link run}.
 *
 * EventEmitter listeners are plain synchronous calls: by default a listener sees the
 * context of the code that calls `emit()`, not of the code that registered it. Use
 * {@link bindEmitter} on emitters that are fed from elsewhere (sockets, shared buses).
 */
export class AsyncContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<TraceContext>();

  active(): TraceContext | undefined {
    return this.#storage.getStore();
  }

  run<A extends unknown[], R>(context: TraceContext, fn: (...args: A) => R, ...args: A): R {
    return this.#storage.run(context, fn, ...args);
  }

  /** Runs `fn` with no active context. */
  exit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
    return this.#storage.exit(fn, ...args);
  }

  /**
   * Returns a function that always runs `fn` in `context` (default: the context active
   * now; with none active, `fn` runs outside any context).
   */
  bind<A extends unknown[], R>(
    fn: (...args: A) => R,
    context: TraceContext | undefined = this.active(),
  ): (...args: A) => R {
    const storage = this.#storage;
    return function (this: unknown, ...args: A): R {
      return context === undefined
        ? storage.exit(() => fn.apply(this, args))
        : storage.run(context, () => fn.apply(this, args));
    };
  }

  /**
   * Makes every listener added to `emitter` from now on run in the context that was active
   * where it was added (`on`, `once`, `prependListener`, ...); `off`/`removeListener`
   * with the original function still work. Returns the emitter.
   */
  bindEmitter<E extends EventEmitter>(emitter: E): E {
    return patchEmitter(emitter, (listener) => this.bind(listener));
  }
}
