import { readFileSync } from "node:fs";
import { ConfigError } from "./errors.js";

/**
 * A file's contents, for certificates and keys. Throws ConfigError naming the option and the path
 * (never the contents) when it cannot be read.
 */
export function readOptionFile(path: string, name: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    throw new ConfigError(`${name}: cannot read ${JSON.stringify(path)} (${String(code ?? cause)})`, {
      cause,
    });
  }
}

/**
 * A secret given inline or as a file (as Kubernetes mounts a Secret), with one trailing newline
 * removed; undefined when neither is given. Both given is a contradiction.
 */
export function secretOption(
  value: string | undefined,
  file: string | undefined,
  name: string,
): string | undefined {
  if (value !== undefined && file !== undefined) {
    throw new ConfigError(`give either ${name} or ${name}File, not both`);
  }
  if (file === undefined) return value;
  return readOptionFile(file, `${name}File`)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

/** Defines `key` on `target` as a non-enumerable property: JSON, loggers and `inspect` do not show it. */
export function hideSecret<T extends object>(target: T, key: string, secret: string): T {
  Object.defineProperty(target, key, { value: secret, enumerable: false, writable: false });
  return target;
}
