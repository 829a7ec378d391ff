const reported = new Set<string>();

/** Says once per process which path a service came from, so a test log always shows it. */
export function reportOnce(line: string): void {
  if (reported.has(line)) return;
  reported.add(line);
  process.stderr.write(`[testkit] ${line}\n`);
}
