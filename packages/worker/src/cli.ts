#!/usr/bin/env node
import { main } from "./cli/main.js";

const flushed = (stream: NodeJS.WriteStream): Promise<void> =>
  new Promise((resolve) => {
    stream.write("", () => resolve());
  });

const code = await main(process.argv);
// Output to a pipe is asynchronous: exit only once everything written has been handed over.
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
