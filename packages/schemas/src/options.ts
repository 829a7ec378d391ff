import { ConfigError } from "./errors.js";

/** An integer option, or its default; throws ConfigError when it is not a safe integer >= `min`. */
export function integerOption(
  value: number | undefined,
  fallback: number,
  name: string,
  min: number,
): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < min) {
    throw new ConfigError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return resolved;
}
