import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const require = createRequire(import.meta.url);
const packageDir = fileURLToPath(new URL("../..", import.meta.url));

/** kafkajs's own exports of `kafkajs/src/<path>`, compiled from its file (the module cache may hold ours). */
export function kafkajsOriginal<T>(path: string): T {
  const file = require.resolve(`kafkajs/src/${path}`);
  const local = createRequire(file);
  const module = { exports: {} as unknown };
  vm.runInThisContext(`(function (module, exports, require, __dirname) {${readFileSync(file, "utf8")}\n})`)(
    module,
    module.exports,
    local,
    dirname(file),
  );
  return module.exports as T;
}

/** Runs an ES module in a fresh Node process from the package directory; its stdout. */
export function runFresh(source: string): string {
  return execFileSync(process.execPath, ["--input-type=module", "-e", source], {
    cwd: packageDir,
    encoding: "utf8",
  }).trim();
}
