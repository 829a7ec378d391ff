#!/usr/bin/env node
// The `tracehouse` command. A file in the source tree (not in dist/), so that npm links it on install,
// before the first build.
import { existsSync } from "node:fs";
import process from "node:process";
import { URL } from "node:url";

const entry = new URL("../dist/bin.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("tracehouse: the CLI is not built yet: run `npm run build` at the repository root\n");
  process.exit(1);
}
await import(entry.href);
