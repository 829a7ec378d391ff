import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { useKafka } from "@tracehouse/testkit";
import { expect } from "chai";
import { encodeExportRequest, RECEIVER_OPTIONS } from "../src/index.js";

const CLI = fileURLToPath(new URL("../../cli/src/bin.ts", import.meta.url));

function start(args: readonly string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith("TRACEHOUSE_")) delete env[name];
  const child = spawn(process.execPath, ["--import", "tsx", CLI, "receive", ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

async function logLine(stderr: () => string, msg: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    for (const line of stderr().split("\n")) {
      if (line.startsWith("{") && line.includes(`"msg":"${msg}"`))
        return JSON.parse(line) as Record<string, unknown>;
    }
    if (Date.now() > deadline) throw new Error(`no log line "${msg}" in: ${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("tracehouse receive", function () {
  it("listens on the ports it is given, takes an export, and stops on SIGTERM", async function () {
    const { brokers } = await useKafka();
    const cli = start([
      "--http-port",
      "0",
      "--grpc-port",
      "off",
      "--brokers",
      brokers.join(","),
      "--no-spool",
      "--topic-prefix",
      "cli_receive_test.",
    ]);
    try {
      const listening = await logLine(cli.stderr, "otlp receiver listening");
      expect(listening["grpc"]).to.equal(null);
      expect(String(listening["http"])).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      const body = encodeExportRequest({ resourceSpans: [] });
      const response = await fetch(`${String(listening["http"])}/v1/traces`, {
        method: "POST",
        body,
        headers: { "content-type": "application/x-protobuf" },
      });
      expect(response.status).to.equal(200);
    } finally {
      cli.child.kill("SIGTERM");
    }
    expect(await cli.exited).to.equal(0);
    await logLine(cli.stderr, "receiver stopped");
  });

  it("--help shows a flag and an environment variable for every option of the receiver", async function () {
    const env: NodeJS.ProcessEnv = { ...process.env, COLUMNS: "400" };
    const child = spawn(process.execPath, ["--import", "tsx", CLI, "receive", "--help"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    await new Promise((resolve) => child.on("close", resolve));
    for (const spec of Object.values(RECEIVER_OPTIONS)) {
      expect(out).to.include(`--${spec.flag} `);
      expect(out).to.include(spec.env);
    }
  });

  it("exits 2 with a configuration error on a bad option", async function () {
    const cli = start(["--http-port", "70000", "--brokers", "127.0.0.1:1"]);
    expect(await cli.exited).to.equal(2);
    expect(cli.stderr()).to.match(/configuration error: --http-port: must be at most 65535, got 70000/);
  });
});
