/**
 * An integer option of a benchmark's command line (parsed by node:util's parseArgs as a string):
 * exits with status 2, the message and `help` when it is missing, not an integer, below `min` or
 * above `max`.
 */
export function integerArg<K extends string>(
  values: Partial<Record<K, string | boolean | undefined>>,
  name: K,
  min: number,
  help: string,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = values[name];
  const value = Number(raw);
  if (typeof raw !== "string" || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    console.error(`--${name} must be an integer ${range}, got ${String(raw)}\n\n${help}`);
    process.exit(2);
  }
  return value;
}
