import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dockerAvailable } from "./internal/docker.js";
import { reportOnce } from "./internal/report.js";

export type ClickHouseSource = "env" | "testcontainers" | "embedded";

export interface ClickHouseService {
  readonly source: ClickHouseSource;
  /** Set for a ClickHouse server reached over HTTP. */
  readonly url?: string;
  readonly username?: string;
  readonly password?: string;
  /** The embedded engine's data directory: one per process, because chdb binds one per process. */
  readonly dataDir: string;
}

const CLICKHOUSE_IMAGE = "clickhouse/clickhouse-server:25.8";

let embeddedDir: string | undefined;
let service: Promise<ClickHouseService> | undefined;

/** The embedded engine's data directory for this process, removed when the process exits. */
export function embeddedDataDir(): string {
  if (embeddedDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "tracehouse-chdb-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    embeddedDir = dir;
  }
  return embeddedDir;
}

/**
 * A real ClickHouse for tests, in this order: `CLICKHOUSE_URL` (with
 * `CLICKHOUSE_USER` / `CLICKHOUSE_PASSWORD`), then a testcontainers server
 * when a Docker engine is reachable, then the embedded engine (chdb).
 */
export function useClickHouse(): Promise<ClickHouseService> {
  service ??= resolveClickHouse();
  return service;
}

/** A ClickHouse server over HTTP when one can be had (env or Docker), else null with the reason reported. */
export async function useClickHouseServer(): Promise<ClickHouseService | null> {
  const resolved = await useClickHouse();
  if (resolved.url !== undefined) return resolved;
  reportOnce("ClickHouse server: none (CLICKHOUSE_URL is not set and no Docker engine is reachable)");
  return null;
}

async function resolveClickHouse(): Promise<ClickHouseService> {
  const dataDir = embeddedDataDir();
  const url = process.env["CLICKHOUSE_URL"];
  if (url) {
    reportOnce(`ClickHouse: server ${new URL(url).host} (from CLICKHOUSE_URL)`);
    return {
      source: "env",
      url,
      username: process.env["CLICKHOUSE_USER"] ?? "default",
      password: process.env["CLICKHOUSE_PASSWORD"] ?? "",
      dataDir,
    };
  }
  if (await dockerAvailable()) {
    const { ClickHouseContainer } = await import("@testcontainers/clickhouse");
    const container = await new ClickHouseContainer(CLICKHOUSE_IMAGE).start();
    reportOnce(`ClickHouse: testcontainers ${CLICKHOUSE_IMAGE} at ${container.getHttpUrl()}`);
    return {
      source: "testcontainers",
      url: container.getHttpUrl(),
      username: container.getUsername(),
      password: container.getPassword(),
      dataDir,
    };
  }
  reportOnce(`ClickHouse: embedded engine (chdb) in ${dataDir}`);
  return { source: "embedded", dataDir };
}
