/** Structured logger injected into sinks and the schema manager; never given credentials. */
export interface Logger {
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

const ignore = (): void => undefined;

export const noopLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
