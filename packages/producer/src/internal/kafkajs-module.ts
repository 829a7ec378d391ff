// Puts a function of ours in the place of one of kafkajs 2.2.4's internal modules, in Node's module
// cache, before the kafkajs module that requires it is loaded. See kafkajs-grouping.ts and
// kafkajs-record.ts for what is replaced and why.
import Module, { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** What a replacement found: done, too late (kafkajs loaded the module's user already), or no kafkajs. */
export type ReplacementState = "installed" | "kafkajs-loaded-first" | "not-found";

/** The file of `kafkajs/src/<path>`, or undefined when kafkajs (or that file) is not there. */
export function kafkajsFile(path: string): string | undefined {
  try {
    return require.resolve(`kafkajs/src/${path}`);
  } catch {
    return undefined;
  }
}

/**
 * Makes `kafkajs/src/<target>` export `exports`, unless a module of `requiredBy` (the modules that
 * require it, `kafkajs/src/<path>`) is loaded already: then kafkajs keeps its own. Idempotent.
 */
export function replaceKafkajsModule(
  target: string,
  requiredBy: string | readonly string[],
  exports: unknown,
): ReplacementState {
  const file = kafkajsFile(target);
  const users = (typeof requiredBy === "string" ? [requiredBy] : requiredBy).map((path) => kafkajsFile(path));
  if (file === undefined || users.includes(undefined)) return "not-found";
  if (require.cache[file]?.exports === exports) return "installed";
  if (users.some((user) => require.cache[user!] !== undefined)) return "kafkajs-loaded-first";
  const loaded = require.cache[file];
  if (loaded !== undefined) {
    // loaded already (to keep kafkajs's own for what ours leaves to it): it keeps its children
    loaded.exports = exports;
    return "installed";
  }
  const module = new Module(file);
  module.filename = file;
  module.loaded = true;
  module.exports = exports;
  require.cache[file] = module;
  return "installed";
}
