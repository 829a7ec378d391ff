import { randomBytes } from "node:crypto";
import { encodeExportRequest } from "../src/index.js";

/** An OTLP/HTTP protobuf request: traces of 32 spans (an HTTP server span, DB and HTTP client spans), typical attributes. */
export function exportBody(spansPerRequest: number): Buffer {
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans: Record<string, unknown>[] = [];
  for (let t = 0; t < spansPerRequest / 32; t++) {
    const traceId = randomBytes(16);
    const rootId = randomBytes(8);
    for (let s = 0; s < 32; s++) {
      const spanId = s === 0 ? rootId : randomBytes(8);
      spans.push({
        traceId,
        spanId,
        parentSpanId: s === 0 ? undefined : rootId,
        name: s === 0 ? "GET /api/orders/{id}" : s % 2 === 0 ? "SELECT orders" : "GET",
        kind: s === 0 ? 2 : 3,
        startTimeUnixNano: String(now - BigInt(40_000_000 - s * 1_000_000)),
        endTimeUnixNano: String(now - BigInt(39_000_000 - s * 1_000_000)),
        attributes: [
          { key: "http.request.method", value: { stringValue: "GET" } },
          { key: "http.response.status_code", value: { intValue: 200 } },
          { key: "server.address", value: { stringValue: "orders.internal" } },
          { key: "db.system.name", value: { stringValue: "postgresql" } },
          { key: "db.query.text", value: { stringValue: "SELECT * FROM orders WHERE id = $1" } },
        ],
        status: { code: 0 },
      });
    }
  }
  return encodeExportRequest({
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: "service.name", value: { stringValue: "orders" } },
            { key: "telemetry.sdk.language", value: { stringValue: "go" } },
          ],
        },
        scopeSpans: [{ scope: { name: "otelhttp", version: "0.60.0" }, spans }],
      },
    ],
  });
}
