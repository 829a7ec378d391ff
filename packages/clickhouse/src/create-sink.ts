import { resolveSinkConfig } from "./config.js";
import type { SinkOptions } from "./config.js";
import { EmbeddedSink } from "./EmbeddedSink.js";
import { HttpSink } from "./HttpSink.js";
import { SinkKind } from "./sink.js";
import type { Sink } from "./sink.js";

/** An HttpSink when a url is given (option or CLICKHOUSE_URL), else an EmbeddedSink on `dataDir`. */
export function createSink(options: SinkOptions = {}): Sink {
  return resolveSinkConfig(options).kind === SinkKind.Http
    ? new HttpSink(options)
    : new EmbeddedSink(options);
}
