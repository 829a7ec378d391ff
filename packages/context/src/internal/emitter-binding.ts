import type { EventEmitter } from "node:events";

type Listener = (...args: unknown[]) => unknown;
type Wrap = (listener: Listener) => Listener;

const ADD_METHODS = ["on", "addListener", "prependListener"] as const;
const REMOVE_METHODS = ["off", "removeListener"] as const;

/** Per emitter: event name → (listener as registered → wrappers registered for it). */
const registries = new WeakMap<EventEmitter, Map<string | symbol, Map<Listener, Listener[]>>>();

function registryFor(emitter: EventEmitter, event: string | symbol): Map<Listener, Listener[]> {
  let events = registries.get(emitter);
  if (events === undefined) {
    events = new Map();
    registries.set(emitter, events);
  }
  let listeners = events.get(event);
  if (listeners === undefined) {
    listeners = new Map();
    events.set(event, listeners);
  }
  return listeners;
}

/**
 * Takes the wrapper registered for `listener`, either directly or, for `once`, through
 * the once-wrapper Node puts around it (which exposes the original as `.listener`).
 */
function takeWrapper(registry: Map<Listener, Listener[]>, listener: Listener): Listener | undefined {
  let key: Listener | undefined = registry.has(listener) ? listener : undefined;
  if (key === undefined) {
    for (const candidate of registry.keys()) {
      if ((candidate as { listener?: unknown }).listener === listener) {
        key = candidate;
        break;
      }
    }
  }
  if (key === undefined) return undefined;
  const wrappers = registry.get(key) as Listener[];
  const wrapper = wrappers.pop();
  if (wrappers.length === 0) registry.delete(key);
  return wrapper;
}

/**
 * Patches an emitter so each listener added from now on is wrapped by `wrap` when it is
 * registered; removing the original listener removes its wrapper. `once` and
 * `prependOnceListener` are covered because Node implements them with `on` and
 * `prependListener`. Patching twice is a no-op.
 */
export function patchEmitter<E extends EventEmitter>(emitter: E, wrap: Wrap): E {
  if (registries.has(emitter)) return emitter;
  registries.set(emitter, new Map());
  const target = emitter as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const method of ADD_METHODS) {
    const original = target[method] as (event: string | symbol, listener: Listener) => E;
    target[method] = function (this: E, event: string | symbol, listener: Listener): E {
      const wrapper = wrap(listener);
      (wrapper as { listener?: unknown }).listener =
        (listener as { listener?: unknown }).listener ?? listener;
      const registry = registryFor(emitter, event);
      const wrappers = registry.get(listener);
      if (wrappers === undefined) registry.set(listener, [wrapper]);
      else wrappers.push(wrapper);
      return original.call(this, event, wrapper);
    } as (...args: unknown[]) => unknown;
  }
  for (const method of REMOVE_METHODS) {
    const original = target[method] as (event: string | symbol, listener: Listener) => E;
    target[method] = function (this: E, event: string | symbol, listener: Listener): E {
      const wrapper = takeWrapper(registryFor(emitter, event), listener);
      return original.call(this, event, wrapper ?? listener);
    } as (...args: unknown[]) => unknown;
  }
  const removeAll = target.removeAllListeners as (event?: string | symbol) => E;
  target.removeAllListeners = function (this: E, ...args: unknown[]): E {
    const events = registries.get(emitter);
    if (args.length === 0) events?.clear();
    else events?.delete(args[0] as string | symbol);
    return removeAll.apply(this, args as [string | symbol]);
  } as (...args: unknown[]) => unknown;
  return emitter;
}
