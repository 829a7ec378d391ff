#!/usr/bin/env node
// Before anything loads kafkajs: the producer puts its linear per-partition grouping in place.
await import("@tracehouse/producer");
const { main } = await import("./main.js");

// A reader that stops early (`tracehouse stats | head -3`) closes the pipe: the output is no longer
// wanted, so stop quietly instead of dying of an unhandled EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(stream === process.stdout ? 0 : 1);
  });

const flushed = (stream: NodeJS.WriteStream): Promise<void> =>
  new Promise((resolve) => {
    stream.write("", () => resolve());
  });

const code = await main(process.argv);
// Output to a pipe is asynchronous: exit only once everything written has been handed over.
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
