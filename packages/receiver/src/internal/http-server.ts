import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import { promisify } from "node:util";
import zlib from "node:zlib";
import type { ReceiverConfig } from "../config.js";
import { BadPayloadError, handleExport, partialSuccessOf } from "./handle-export.js";
import { Refusal, RefusedError } from "./Ingest.js";
import type { Ingest } from "./Ingest.js";
import { encodeExportResponse } from "./otlp-proto.js";
import { encodeStatus, GrpcCode } from "./rpc-status.js";

const gunzip = promisify(zlib.gunzip);
export const TRACES_PATH = "/v1/traces";

type Format = "protobuf" | "json";

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function formatOf(contentType: string | undefined): Format | null {
  const type = (contentType ?? "").split(";", 1)[0]?.trim().toLowerCase();
  if (type === "application/x-protobuf" || type === "application/protobuf") return "protobuf";
  if (type === "application/json") return "json";
  return null;
}

/** Reads the body, at most `max` bytes on the wire within `timeoutMs`; a stalled client is cut off. */
function readBody(req: IncomingMessage, max: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      reject(new HttpError(408, `request body not received within ${timeoutMs} ms`));
      req.socket.destroy();
    }, timeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      reject(error);
    };
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        fail(new HttpError(413, `request body larger than ${max} bytes`));
        req.removeAllListeners("data");
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks, size));
    });
    req.on("error", fail);
    req.on("aborted", () => fail(new HttpError(400, "request aborted")));
  });
}

async function bodyOf(req: IncomingMessage, max: number, timeoutMs: number): Promise<Buffer> {
  const encoding = (req.headers["content-encoding"] ?? "identity").toLowerCase().trim();
  if (encoding !== "gzip" && encoding !== "identity" && encoding !== "") {
    throw new HttpError(415, `unsupported Content-Encoding ${JSON.stringify(encoding)}: use gzip or none`);
  }
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > max)
    throw new HttpError(413, `request body larger than ${max} bytes`);
  const raw = await readBody(req, max, timeoutMs);
  if (encoding !== "gzip") return raw;
  try {
    return await gunzip(raw, { maxOutputLength: max });
  } catch (error) {
    if (error instanceof RangeError)
      throw new HttpError(413, `request body larger than ${max} bytes once gunzipped`);
    throw new HttpError(
      400,
      `cannot gunzip the request body: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function send(
  res: ServerResponse,
  status: number,
  format: Format,
  body: Buffer | string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    "content-type": format === "protobuf" ? "application/x-protobuf" : "application/json",
    ...headers,
  });
  res.end(body);
}

function sendError(
  res: ServerResponse,
  status: number,
  format: Format,
  message: string,
  retryAfterSeconds?: number,
): void {
  const code =
    status === 400
      ? GrpcCode.InvalidArgument
      : status === 413
        ? GrpcCode.ResourceExhausted
        : GrpcCode.Unavailable;
  const headers: Record<string, string> =
    retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) };
  const body = format === "protobuf" ? encodeStatus(code, message) : JSON.stringify({ code, message });
  send(res, status, format, body, headers);
}

/** OTLP/HTTP: POST /v1/traces, protobuf or JSON, optionally gzip. */
export function createHttpServer(ingest: Ingest, config: ReceiverConfig): http.Server {
  const server = http.createServer({
    requestTimeout: config.requestTimeoutMs,
    headersTimeout: Math.min(config.requestTimeoutMs, 60_000),
    connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs),
  });
  server.keepAliveTimeout = 65_000;
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    void serve(req, res, ingest, config);
  });
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
    else socket.destroy();
  });
  return server;
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  ingest: Ingest,
  config: ReceiverConfig,
): Promise<void> {
  const path = (req.url ?? "").split("?", 1)[0];
  const format = formatOf(req.headers["content-type"]) ?? "json";
  try {
    if (path !== TRACES_PATH) throw new HttpError(404, `no such path; OTLP traces go to POST ${TRACES_PATH}`);
    if (req.method !== "POST") throw new HttpError(405, `${TRACES_PATH} takes POST only`);
    if (formatOf(req.headers["content-type"]) === null) {
      throw new HttpError(415, "Content-Type must be application/x-protobuf or application/json");
    }
    const release = ingest.admit();
    let result;
    try {
      const body = await bodyOf(req, config.maxRequestBytes, config.requestTimeoutMs);
      result = await handleExport(ingest, body, format, config.maxSpansPerRequest);
    } finally {
      release();
    }
    const partial = partialSuccessOf(result);
    const payload =
      format === "protobuf"
        ? encodeExportResponse(partial)
        : JSON.stringify(partial === null ? {} : { partialSuccess: partial });
    send(res, 200, format, payload);
  } catch (error) {
    if (error instanceof HttpError) {
      if (error.status === 405) res.setHeader("allow", "POST");
      sendError(res, error.status, format, error.message);
      if (error.status === 413) req.resume();
    } else if (error instanceof BadPayloadError) {
      sendError(res, 400, format, error.message);
    } else if (error instanceof RefusedError) {
      req.resume();
      sendError(
        res,
        error.refusal === Refusal.Busy ? 429 : 503,
        format,
        error.message,
        config.retryAfterSeconds,
      );
    } else {
      config.logger.error("export request failed", {
        error: error instanceof Error ? error.message : String(error),
      });
      sendError(res, 503, format, "internal error; retry later", config.retryAfterSeconds);
    }
  }
}
