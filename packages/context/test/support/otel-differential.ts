import type { TextMapGetter } from "@opentelemetry/api";

/** Headers by name; a name may carry several values. */
export type Headers = Record<string, string | string[]>;

/** OpenTelemetry's extract reads headers through this, matching names as HTTP does. */
export const caseInsensitiveGetter: TextMapGetter<Headers> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const values = Object.keys(carrier)
      .filter((name) => name.toLowerCase() === key)
      .flatMap((name) => carrier[name] as string | string[]);
    return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
  },
};
