import { execFileSync, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";

const INSTALL = fileURLToPath(new URL("../../infra/jaeger/install.sh", import.meta.url));

interface InstallRun {
  readonly status: number | null;
  readonly output: string;
  /** From the script's exit to the end of its output: what a pipe or a caller reading it waits more. */
  readonly outputOpenAfterExitMs: number;
}

function install(env: NodeJS.ProcessEnv): Promise<InstallRun> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [INSTALL], { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let exitedAt = Number.NaN;
    let status: number | null = null;
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      exitedAt = performance.now();
      status = code;
    });
    child.on("close", () => resolve({ status, output, outputOpenAfterExitMs: performance.now() - exitedAt }));
  });
}

describe("infra/jaeger/install.sh", function () {
  // Go's own module and build caches are reused, so this takes seconds once CI's install step ran;
  // a machine without them compiles Jaeger (several minutes on two cores).
  this.timeout(900_000);

  it("builds into an empty cache, exits 0 and leaves nothing holding its output", async () => {
    const cache = mkdtempSync(join(tmpdir(), "th-jaeger-cache-"));
    try {
      const goEnv = (name: string): string => execFileSync("go", ["env", name], { encoding: "utf8" }).trim();
      const run = await install({
        ...process.env,
        XDG_CACHE_HOME: cache,
        GOCACHE: goEnv("GOCACHE"),
        GOMODCACHE: goEnv("GOMODCACHE"),
      });
      expect(run.output).to.match(/installed \(/);
      expect(run.status, run.output).to.equal(0);
      expect(run.outputOpenAfterExitMs, "output still open after the script exited").to.be.below(5_000);
      accessSync(join(cache, "tracehouse", "jaeger-v1.76.0", "jaeger"), constants.X_OK);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
