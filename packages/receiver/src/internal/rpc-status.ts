import protobuf from "protobufjs";

/** google.rpc.Status with google.rpc.RetryInfo: the error body of OTLP/HTTP protobuf and gRPC's status details. */
const root = protobuf.parse(
  `
syntax = "proto3";
package google.rpc;
message Any { string type_url = 1; bytes value = 2; }
message Duration { int64 seconds = 1; int32 nanos = 2; }
message RetryInfo { Duration retry_delay = 1; }
message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
`,
  { keepCase: true },
).root;

const Status = root.lookupType("google.rpc.Status");
const RetryInfo = root.lookupType("google.rpc.RetryInfo");

/** gRPC status codes used by the receiver. */
export const GrpcCode = {
  Ok: 0,
  InvalidArgument: 3,
  ResourceExhausted: 8,
  Internal: 13,
  Unavailable: 14,
} as const;

/** Encoded google.rpc.Status; with `retryAfterSeconds`, a RetryInfo detail telling the client when to retry. */
export function encodeStatus(code: number, message: string, retryAfterSeconds?: number): Buffer {
  const details =
    retryAfterSeconds === undefined
      ? []
      : [
          {
            type_url: "type.googleapis.com/google.rpc.RetryInfo",
            value: RetryInfo.encode(
              RetryInfo.create({ retry_delay: { seconds: retryAfterSeconds, nanos: 0 } }),
            ).finish(),
          },
        ];
  return Buffer.from(Status.encode(Status.create({ code, message, details })).finish());
}

export function decodeStatus(bytes: Uint8Array): { code: number; message: string } {
  return Status.toObject(Status.decode(bytes)) as { code: number; message: string };
}
