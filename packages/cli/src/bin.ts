#!/usr/bin/env node
// Before anything loads kafkajs: the producer puts its linear per-partition grouping in place.
await import("@tracehouse/producer");
const { main } = await import("./main.js");

const flushed = (stream: NodeJS.WriteStream): Promise<void> =>
  new Promise((resolve) => {
    stream.write("", () => resolve());
  });

const code = await main(process.argv);
// Output to a pipe is asynchronous: exit only once everything written has been handed over.
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
