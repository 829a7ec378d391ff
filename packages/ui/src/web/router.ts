import { useEffect, useState } from "preact/hooks";

/** The location the app renders: a path and its query string (filters, selection). */
export interface Location {
  readonly path: string;
  readonly query: URLSearchParams;
}

const current = (): Location => ({ path: location.pathname, query: new URLSearchParams(location.search) });

/** Goes to `href` without a reload (push), or replaces the current entry. */
export function navigate(href: string, replace = false): void {
  if (replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  dispatchEvent(new PopStateEvent("popstate"));
}

export function useLocation(): Location {
  const [value, setValue] = useState(current);
  useEffect(() => {
    const update = (): void => setValue(current());
    addEventListener("popstate", update);
    return () => removeEventListener("popstate", update);
  }, []);
  return value;
}

/** `path?query` with empty values dropped. */
export function href(path: string, params: Record<string, string | undefined | null>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== null && value !== "") query.set(key, value);
  const text = query.toString();
  return text === "" ? path : `${path}?${text}`;
}

/** Calls `load` now and every `intervalMs` (new data without a reload); stops when unmounted. */
export function usePolling<T>(
  load: () => Promise<T>,
  deps: readonly unknown[],
  intervalMs = 5000,
): {
  data: T | null;
  error: string | null;
  updatedAt: number | null;
} {
  const [state, setState] = useState<{ data: T | null; error: string | null; updatedAt: number | null }>({
    data: null,
    error: null,
    updatedAt: null,
  });
  useEffect(() => {
    let stopped = false;
    setState({ data: null, error: null, updatedAt: null });
    const run = (): void => {
      load().then(
        (data) => !stopped && setState({ data, error: null, updatedAt: Date.now() }),
        (error: unknown) =>
          !stopped &&
          setState((s) => ({ ...s, error: error instanceof Error ? error.message : String(error) })),
      );
    };
    run();
    const timer = setInterval(run, intervalMs);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, deps);
  return state;
}
