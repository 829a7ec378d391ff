import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { ConfigError, ErrorCode } from "@tracehouse/schemas";
import {
  DEFAULT_DATA_DIR,
  EmbeddedSink,
  HttpSink,
  SinkError,
  SinkKind,
  createSink,
  resolveSinkConfig,
} from "../src/index.js";
import { ENGINE_ALLOCATOR_CONF } from "../src/internal/chdb.js";
import { recordingLogger, testDataDir } from "./support/engine.js";

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("sink configuration", () => {
  it("picks the embedded engine by default, with defaults filled in", () => {
    const config = resolveSinkConfig({ env: {} });
    expect(config).to.deep.include({
      kind: SinkKind.Embedded,
      database: "tracehouse",
      dataDir: path.resolve(DEFAULT_DATA_DIR),
      retry: { maxRetries: 3, retryBaseDelayMs: 100, retryMaxDelayMs: 5000 },
    });
  });

  it("picks HTTP when a url is given or CLICKHOUSE_URL is set, credentials from env over the url", () => {
    const fromEnv = resolveSinkConfig({
      env: { CLICKHOUSE_URL: "https://u:p%40ss@ch.example:8443/", CLICKHOUSE_PASSWORD: "env-secret" },
    });
    expect(fromEnv).to.deep.include({
      kind: SinkKind.Http,
      url: "https://ch.example:8443",
      username: "u",
      password: "env-secret",
      compression: true,
      requestTimeoutMs: 30000,
    });
    const fromUrl = resolveSinkConfig({ url: "http://u:p%40ss@localhost:8123", env: {} });
    expect(fromUrl).to.deep.include({ url: "http://localhost:8123", username: "u", password: "p@ss" });
    const explicit = resolveSinkConfig({
      url: "http://localhost:8123",
      username: "me",
      password: "x",
      env: { CLICKHOUSE_USER: "env" },
    });
    expect(explicit).to.deep.include({ username: "me", password: "x" });
    expect(resolveSinkConfig({ dataDir: "/tmp/x", env: { CLICKHOUSE_URL: "http://h:8123" } }).kind).to.equal(
      SinkKind.Embedded,
    );
  });

  it("throws ConfigError on contradictions and bad values", () => {
    expect(() => resolveSinkConfig({ url: "http://h:8123", dataDir: "/tmp/x" })).to.throw(ConfigError);
    expect(() => resolveSinkConfig({ url: "not a url" })).to.throw(ConfigError);
    expect(() => resolveSinkConfig({ url: "ftp://h" })).to.throw(ConfigError);
    expect(() => resolveSinkConfig({ env: {}, database: "bad-name" })).to.throw(ConfigError);
    expect(() => resolveSinkConfig({ env: {}, maxRetries: -1 })).to.throw(ConfigError);
    expect(() => resolveSinkConfig({ env: {}, retryBaseDelayMs: 10, retryMaxDelayMs: 5 })).to.throw(
      ConfigError,
    );
    expect(() => resolveSinkConfig({ env: {}, dataDir: ":memory:" })).to.throw(ConfigError);
  });

  it("createSink builds the sink the configuration names", async () => {
    const http = createSink({ url: "http://127.0.0.1:1", env: {} });
    const embedded = createSink({ dataDir: testDataDir(), env: {} });
    try {
      expect(http).to.be.instanceOf(HttpSink);
      expect(embedded).to.be.instanceOf(EmbeddedSink);
      expect([http.kind, embedded.kind]).to.deep.equal([SinkKind.Http, SinkKind.Embedded]);
    } finally {
      await Promise.all([http.close(), embedded.close()]);
    }
  });

  it("refuses a second data directory in the same process with a non-retriable SinkError", async () => {
    const open = new EmbeddedSink({ dataDir: testDataDir() });
    const otherDir = path.join(testDataDir(), "..", `another-dir-${process.pid}`);
    let error: unknown = null;
    try {
      await new EmbeddedSink({ dataDir: otherDir }).close();
    } catch (caught) {
      error = caught;
    } finally {
      await open.close();
      rmSync(otherDir, { recursive: true, force: true });
    }
    expect(error).to.be.instanceOf(SinkError);
    expect((error as SinkError).retriable).to.equal(false);
  });
});

describe("loading the embedded engine", () => {
  /** Runs the loading fixture in a process of its own with `JE_MALLOC_CONF` as given (unset: undefined). */
  async function loading(allocator: string | undefined): Promise<Record<string, unknown>> {
    const dataDir = mkdtempSync(path.join(tmpdir(), "tracehouse-chdb-loading-"));
    const { JE_MALLOC_CONF: _inherited, ...env } = process.env;
    try {
      const fixture = path.join(import.meta.dirname, "fixtures", "chdb-loading.ts");
      const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", fixture, dataDir], {
        env: allocator === undefined ? env : { ...env, JE_MALLOC_CONF: allocator },
      });
      return JSON.parse(stdout) as Record<string, unknown>;
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }

  it("maps chdb only when an EmbeddedSink is made, not on import or for the HTTP sink", async () => {
    expect(await loading(undefined)).to.deep.equal({
      afterImport: false,
      afterHttpSink: false,
      afterEmbeddedSink: true,
      one: 1,
      allocator: { before: null, after: ENGINE_ALLOCATOR_CONF },
    });
  });

  it("sets the engine's allocator settings before it loads, unless the environment has its own", async () => {
    expect((await loading("dirty_decay_ms:0")).allocator).to.deep.equal({
      before: "dirty_decay_ms:0",
      after: "dirty_decay_ms:0",
    });
  });
});

describe("http sink transport failures", () => {
  it("retries a refused connection with backoff, stays retriable, never logs the password", async () => {
    const port = await closedPort();
    const logger = recordingLogger();
    const sink = new HttpSink({
      url: `http://reader:url-secret@127.0.0.1:${port}`,
      password: "option-secret",
      maxRetries: 2,
      retryBaseDelayMs: 5,
      logger,
      env: {},
    });
    let error: unknown = null;
    try {
      await sink.query("SELECT 1");
    } catch (caught) {
      error = caught;
    } finally {
      await sink.close();
    }
    expect(error).to.be.instanceOf(SinkError);
    expect((error as SinkError).code).to.equal(ErrorCode.Sink);
    expect((error as SinkError).retriable).to.equal(true);
    expect((error as SinkError).clickhouseCode).to.equal(null);
    const retries = logger.lines.filter((line) => line.message === "clickhouse call failed, retrying");
    expect(retries).to.have.length(2);
    const everything =
      JSON.stringify(logger.lines) + String((error as Error).message) + JSON.stringify(sink.config.url);
    expect(everything).to.not.include("secret");
    expect(everything).to.include(`127.0.0.1:${port}`);
  });

  it("refuses calls after close", async () => {
    const sink = new HttpSink({ url: "http://127.0.0.1:1", env: {} });
    await sink.close();
    let error: unknown = null;
    await sink.insert("spans", [{ a: 1 }]).catch((caught: unknown) => (error = caught));
    expect((error as { code?: string }).code).to.equal(ErrorCode.Closed);
  });
});
