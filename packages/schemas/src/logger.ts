/** Structured logger injected into every tracehouse library. Library code never writes to the console. */
export interface Logger {
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

const ignore = (): void => undefined;

/** The default logger: drops everything. */
export const noopLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
