import type { Logger } from "@tracehouse/schemas";

function write(level: string, message: string, fields?: Readonly<Record<string, unknown>>): void {
  let line = `tracehouse producer ${level}: ${message}`;
  if (fields !== undefined && Object.keys(fields).length > 0) {
    try {
      line += ` ${JSON.stringify(fields)}`;
    } catch {
      // fields that cannot be serialised are left out
    }
  }
  process.stderr.write(`${line}\n`);
}

const ignore = (): void => undefined;

/**
 * The producer's default logger: warnings and errors as one line each on stderr, debug
 * and info dropped. The producer logs problems once (or once a second with a count), so
 * this stays quiet while everything works. Inject a logger to send them elsewhere.
 */
export const stderrLogger: Logger = {
  debug: ignore,
  info: ignore,
  warn: (message, fields) => write("warn", message, fields),
  error: (message, fields) => write("error", message, fields),
};
