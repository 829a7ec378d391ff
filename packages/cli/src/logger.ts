import type { Logger } from "@tracehouse/schemas";
import { pino } from "pino";

export interface CliLogger extends Logger {
  flush(): void;
}

/** JSON lines on stderr through pino (stdout stays free for command output). */
export function createCliLogger(level: string): CliLogger {
  const base = pino({ level, base: { service: "tracehouse" } }, pino.destination({ fd: 2, sync: true }));
  const at =
    (method: "debug" | "info" | "warn" | "error") =>
    (message: string, fields?: Readonly<Record<string, unknown>>): void => {
      if (fields === undefined) base[method](message);
      else base[method](fields, message);
    };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    flush: () => base.flush(),
  };
}
