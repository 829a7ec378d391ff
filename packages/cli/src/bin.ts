#!/usr/bin/env node
// The embedded engine's allocator reads this when it loads: return freed pages at once instead of
// keeping them for seconds, which otherwise shows as hundreds of MB of resident memory under load.
process.env["JE_MALLOC_CONF"] ??= "dirty_decay_ms:0,muzzy_decay_ms:0";

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
