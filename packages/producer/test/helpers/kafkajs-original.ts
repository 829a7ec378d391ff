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

/** A replacement of ours in kafkajs's module cache, as a fresh process sees it. */
export interface Replacement {
  /** The producer's export saying what the replacement came to (a ReplacementState). */
  readonly state: string;
  /** `kafkajs/src/<user>` requires `kafkajs/src/<target>`. */
  readonly used: boolean;
  /** That module is ours. */
  readonly direct: boolean;
}

/**
 * In a fresh process that imports the producer package first, then requires `kafkajs/src/<load>`
 * (by default `user`): its `exportName` state, and whether `user` uses our `target`.
 */
export function replacementAfterImport(
  exportName: string,
  target: string,
  user: string,
  load = user,
): Replacement {
  return JSON.parse(
    runFresh(`
      import { createRequire } from "node:module";
      const { ${exportName}: state } = await import("@tracehouse/producer");
      const require = createRequire(import.meta.url);
      require("kafkajs/src/${load}");
      const target = require.cache[require.resolve("kafkajs/src/${target}")];
      const user = require.cache[require.resolve("kafkajs/src/${user}")];
      console.log(JSON.stringify({ state, used: user.children.includes(target), direct: target.exports.direct === true }));
    `),
  ) as Replacement;
}

/** In a fresh process that required `kafkajs/src/<load>` before importing the producer package: its `exportName` state. */
export function replacementAfterKafkajs(exportName: string, load: string): string {
  return runFresh(`
    import { createRequire } from "node:module";
    createRequire(import.meta.url)("kafkajs/src/${load}");
    const { ${exportName} } = await import("@tracehouse/producer");
    console.log(${exportName});
  `);
}
