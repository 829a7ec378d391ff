import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const PROJECT = fileURLToPath(new URL("../python/", import.meta.url));
const VENV = `${PROJECT}.local/venv`;
const PYTHON = `${VENV}/bin/python`;
const STAMP = `${VENV}/.requirements.sha256`;

function run(command: string, args: readonly string[]): void {
  const result = spawnSync(command, args, { cwd: PROJECT, encoding: "utf8", timeout: 600_000 });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${result.status ?? result.signal}): ${result.stderr.slice(-2000)}`,
    );
  }
}

/**
 * The Python test project's virtual environment, created on first use (python3 -m venv in
 * the git-ignored .local folder, then pip install -r requirements.txt) and reused while
 * requirements.txt is unchanged. Returns the venv's python.
 */
export function pythonEnv(): string {
  const requirements = readFileSync(`${PROJECT}requirements.txt`);
  const digest = createHash("sha256").update(requirements).digest("hex");
  if (existsSync(PYTHON) && existsSync(STAMP) && readFileSync(STAMP, "utf8") === digest) return PYTHON;
  if (!existsSync(PYTHON)) run("python3", ["-m", "venv", VENV]);
  run(PYTHON, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", "requirements.txt"]);
  writeFileSync(STAMP, digest);
  return PYTHON;
}

export interface PythonService {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts agent_service.py on `port` and waits until GET /health answers. */
export async function startAgentService(
  port: number,
  env: Readonly<Record<string, string>>,
): Promise<PythonService> {
  const python = pythonEnv();
  const child = spawn(python, ["agent_service.py"], {
    cwd: PROJECT,
    env: { PATH: process.env["PATH"] ?? "", PORT: String(port), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`agent_service.py exited: ${output}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`agent_service.py did not become ready: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
