import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";
import type { IncomingHttpHeaders } from "node:http";
import type { Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { expect } from "chai";
import { ConfigError } from "@tracehouse/schemas";
import { HttpSink, SinkError } from "../src/index.js";
import { recordingLogger } from "./support/engine.js";

const CERTS_SCRIPT = new URL("../../../infra/kafka/secure/certs.sh", import.meta.url).pathname;
const PASSWORD = "https-sink-secret-9f3a";

/**
 * The HTTP sink against a local HTTPS server whose certificate a throwaway test CA signed (the same
 * certs.sh the secure Kafka broker uses). Not a ClickHouse server: it answers every query with one
 * JSON row, which is enough to test the transport (CA, credentials) for real.
 */
describe("HTTP sink over HTTPS with a custom CA", function () {
  this.timeout(60_000);
  let dir: string;
  let server: Server;
  let url: string;
  const seen: IncomingHttpHeaders[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tracehouse-https-"));
    execFileSync("bash", [CERTS_SCRIPT, join(dir, "certs")]);
    writeFileSync(join(dir, "password"), `${PASSWORD}\n`);
    server = createServer(
      {
        key: readFileSync(join(dir, "certs", "broker.key")),
        cert: readFileSync(join(dir, "certs", "broker.crt")),
      },
      (request, response) => {
        seen.push(request.headers);
        request.resume();
        request.on("end", () => {
          response.writeHead(200, { "Content-Type": "application/x-ndjson" });
          response.end('{"ok":1}\n');
        });
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    url = `https://127.0.0.1:${address.port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("trusts the server through caFile and sends the password read from passwordFile", async () => {
    const sink = new HttpSink({
      url,
      username: "tracer",
      passwordFile: join(dir, "password"),
      caFile: join(dir, "certs", "ca.pem"),
      compression: false,
      env: {},
    });
    try {
      expect(await sink.query<{ ok: number }>("SELECT 1 AS ok")).to.deep.equal([{ ok: 1 }]);
    } finally {
      await sink.close();
    }
    const headers = seen.at(-1)!;
    expect(headers["x-clickhouse-user"]).to.equal("tracer");
    expect(headers["x-clickhouse-key"]).to.equal(PASSWORD);
    expect(JSON.stringify(sink.config)).to.not.include(PASSWORD);
    expect(inspect(sink.config, { depth: 5 })).to.not.include(PASSWORD);
  });

  it("takes the CA and the password file from CLICKHOUSE_CA_FILE and CLICKHOUSE_PASSWORD_FILE", async () => {
    const sink = new HttpSink({
      compression: false,
      env: {
        CLICKHOUSE_URL: url,
        CLICKHOUSE_CA_FILE: join(dir, "certs", "ca.pem"),
        CLICKHOUSE_PASSWORD_FILE: join(dir, "password"),
      },
    });
    try {
      expect(await sink.query("SELECT 1 AS ok")).to.have.length(1);
    } finally {
      await sink.close();
    }
    expect(seen.at(-1)!["x-clickhouse-key"]).to.equal(PASSWORD);
  });

  it("refuses a server its CA did not sign, with an error naming the certificate and no password", async () => {
    const logger = recordingLogger();
    const sink = new HttpSink({
      url,
      password: PASSWORD,
      compression: false,
      maxRetries: 0,
      logger,
      env: {},
    });
    let error: unknown;
    try {
      await sink.query("SELECT 1 AS ok");
    } catch (caught) {
      error = caught;
    } finally {
      await sink.close();
    }
    expect(error).to.be.instanceOf(SinkError);
    expect((error as Error).message).to.match(/certificate/);
    expect(inspect(error, { depth: 10 })).to.not.include(PASSWORD);
    expect(inspect(logger.lines, { depth: 10 })).to.not.include(PASSWORD);
  });

  it("rejects contradictory or unreadable TLS and password options with ConfigError", () => {
    expect(() => new HttpSink({ url, password: "a", passwordFile: join(dir, "password"), env: {} })).to.throw(
      ConfigError,
      /either password or passwordFile/,
    );
    expect(() => new HttpSink({ url, caFile: join(dir, "missing.pem"), env: {} })).to.throw(
      ConfigError,
      /caFile: cannot read/,
    );
    expect(
      () => new HttpSink({ url: "http://127.0.0.1:1", caFile: join(dir, "certs", "ca.pem"), env: {} }),
    ).to.throw(ConfigError, /https: url only/);
  });
});
