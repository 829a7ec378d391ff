import { createRequire } from "node:module";
import type * as ChdbModule from "chdb";

type Chdb = typeof ChdbModule;

let chdb: Chdb | null = null;

/**
 * The engine's allocator (jemalloc) settings, unless the process's environment has its own:
 * freed pages go back to the system 300 ms after they are freed, purged by jemalloc's background
 * threads. Without it the engine keeps freed pages for seconds (hundreds of MB of resident memory
 * under sustained inserts); with an immediate return (`dirty_decay_ms:0`) the engine spent a third
 * more CPU per inserted record (README of the worker, benchmark).
 */
export const ENGINE_ALLOCATOR_CONF = "background_thread:true,dirty_decay_ms:300,muzzy_decay_ms:0";

/**
 * The chdb bindings, loaded on first use: they map the engine's native library (about
 * half a gigabyte), which a process using only the HTTP sink must not pay for. Loaded
 * synchronously so an EmbeddedSink still opens (and fails) in its constructor. The allocator
 * reads JE_MALLOC_CONF when the library loads, so it is set just before.
 */
export function loadChdb(): Chdb {
  if (chdb !== null) return chdb;
  process.env["JE_MALLOC_CONF"] ??= ENGINE_ALLOCATOR_CONF;
  chdb = createRequire(import.meta.url)("chdb") as Chdb;
  return chdb;
}
