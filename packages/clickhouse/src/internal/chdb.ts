import { createRequire } from "node:module";
import type * as ChdbModule from "chdb";

type Chdb = typeof ChdbModule;

let chdb: Chdb | null = null;

/**
 * The chdb bindings, loaded on first use: they map the engine's native library (about
 * half a gigabyte), which a process using only the HTTP sink must not pay for. Loaded
 * synchronously so an EmbeddedSink still opens (and fails) in its constructor.
 */
export function loadChdb(): Chdb {
  chdb ??= createRequire(import.meta.url)("chdb") as Chdb;
  return chdb;
}
