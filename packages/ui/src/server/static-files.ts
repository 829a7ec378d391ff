import { readFile } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Where `vite build` puts the front end (the same path from src/server and dist/server). */
export const WEB_DIR = fileURLToPath(new URL("../../dist/web/", import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
};

export interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
  readonly immutable: boolean;
}

/**
 * The built file for a URL path, or index.html for the front end's own routes (/, /traces,
 * /trace/<id>, /agents, /errors); null for anything else or outside the web directory.
 */
export async function staticFile(urlPath: string, root = WEB_DIR): Promise<StaticFile | null> {
  const assets = urlPath.startsWith("/assets/");
  const relative = assets ? urlPath : "/index.html";
  if (!assets && !/^\/(?:traces|trace\/[^/]*|agents|errors)?\/?$/.test(urlPath)) return null;
  const path = normalize(join(root, relative));
  if (!path.startsWith(normalize(root + sep))) return null;
  try {
    return {
      body: await readFile(path),
      type: TYPES[extname(path)] ?? "application/octet-stream",
      immutable: assets,
    };
  } catch {
    return null;
  }
}
