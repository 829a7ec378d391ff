export { createReceiver, Receiver } from "./Receiver.js";
export type { ReceiverAddresses } from "./Receiver.js";
export type { ReceiverStats } from "./internal/StageClock.js";
export { resolveReceiverConfig, RECEIVER_OPTIONS, DEFAULT_HOST, DEFAULT_CLIENT_ID } from "./config.js";
export type { ReceiverOptions, ReceiverConfig, ReceiverIntegerOption } from "./config.js";
export { TRACES_PATH } from "./internal/http-server.js";
export { executionIdOf } from "./internal/ids.js";
export { encodeExportRequest, decodeExportResponse } from "./internal/otlp-proto.js";
