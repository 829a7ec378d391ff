import * as grpc from "@grpc/grpc-js";
import type { ReceiverConfig } from "../config.js";
import { BadPayloadError, handleExport, partialSuccessOf } from "./handle-export.js";
import { RefusedError } from "./Ingest.js";
import type { Ingest } from "./Ingest.js";
import { encodeExportResponse, TRACE_EXPORT_PATH } from "./otlp-proto.js";
import { encodeStatus, GrpcCode } from "./rpc-status.js";

const identity = (buffer: Buffer): Buffer => buffer;

/** TraceService with raw bytes in and out: decoding happens in the handler, so a bad payload is INVALID_ARGUMENT. */
const TRACE_SERVICE: grpc.ServiceDefinition = {
  Export: {
    path: TRACE_EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

function failure(code: number, message: string, retryAfterSeconds?: number): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (retryAfterSeconds !== undefined)
    metadata.set("grpc-status-details-bin", encodeStatus(code, message, retryAfterSeconds));
  return { code, details: message, metadata };
}

/** OTLP/gRPC: opentelemetry.proto.collector.trace.v1.TraceService/Export, gzip accepted. */
export function createGrpcServer(ingest: Ingest, config: ReceiverConfig): grpc.Server {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": config.maxRequestBytes,
    "grpc.max_concurrent_streams": config.maxConcurrentRequests,
    "grpc.keepalive_time_ms": 60_000,
  });
  server.addService(TRACE_SERVICE, {
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      let release: () => void = () => undefined;
      const exported = (async () => {
        release = ingest.admit();
        return handleExport(ingest, call.request, "protobuf", config.maxSpansPerRequest);
      })();
      void exported.finally(() => release()).catch(() => undefined);
      exported.then(
        (result) => callback(null, encodeExportResponse(partialSuccessOf(result))),
        (error: unknown) => {
          if (error instanceof BadPayloadError) callback(failure(GrpcCode.InvalidArgument, error.message));
          else if (error instanceof RefusedError)
            callback(failure(GrpcCode.Unavailable, error.message, config.retryAfterSeconds));
          else {
            config.logger.error("export call failed", {
              error: error instanceof Error ? error.message : String(error),
            });
            callback(failure(GrpcCode.Unavailable, "internal error; retry later", config.retryAfterSeconds));
          }
        },
      );
    },
  });
  return server;
}
