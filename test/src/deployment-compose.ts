import { join } from "node:path";
import { asRecord, asString, INFRA } from "./deployment-files.js";

type Obj = Record<string, unknown>;

export const COMPOSE_FILE = join(INFRA, "docker-compose.yml");

export function composeDurationSeconds(value: unknown): number {
  const match = /^(\d+)(ms|s|m)$/.exec(String(value));
  if (match === null) throw new Error(`not a duration: ${String(value)}`);
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60 }[match[2] as "ms" | "s" | "m"];
}

export function composeEnv(service: Obj): Map<string, string> {
  const env = new Map<string, string>();
  const environment = service["environment"] ?? {};
  if (Array.isArray(environment)) {
    for (const item of environment) {
      const [key, ...value] = asString(item, "environment").split("=");
      env.set(key!, value.join("="));
    }
  } else {
    for (const [key, value] of Object.entries(asRecord(environment, "environment")))
      env.set(key, String(value));
  }
  return env;
}

/** `${VAR:-default}` → default, as compose resolves it when VAR is unset. */
export function composeDefault(value: string): string {
  return value.replace(/\$\{\w+:-([^}]*)\}/g, "$1");
}
