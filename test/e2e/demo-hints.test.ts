import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { expect } from "chai";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Runs a shell line from the repository root, as a user who copies it from the demo's output would. */
function runAsUser(line: string, timeoutMs: number): { status: number | null; output: string } {
  const run = spawnSync("bash", ["-c", line], { cwd: REPO_ROOT, encoding: "utf8", timeout: timeoutMs });
  return { status: run.status, output: `${run.stdout}\n${run.stderr}` };
}

describe("the demo's closing hints", function () {
  this.timeout(300_000);

  it("every command the demo tells the user to run works exactly as printed", () => {
    const demo = runAsUser("node --import tsx test/src/demo/main.ts", 240_000);
    expect(demo.status, demo.output.slice(-2000)).to.equal(0);
    const commands = demo.output
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.startsWith("npx tracehouse "));
    expect(commands.map((line) => line.split(" ")[2])).to.include.members(["trace", "stats", "ui"]);
    for (const command of commands) {
      // `ui` serves until interrupted: its help is what can be run to completion here.
      const line = command.startsWith("npx tracehouse ui ") ? `${command} --help` : command;
      const run = runAsUser(line, 60_000);
      expect(run.status, `${line}\n${run.output.slice(-1500)}`).to.equal(0);
    }
  });

  it("npm run demo -- --ui prints the trace explorer's address once it answers", async () => {
    const probe = createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    const port = (probe.address() as { port: number }).port;
    probe.close();
    const demo = spawn(
      process.execPath,
      ["--import", "tsx", "test/src/demo/main.ts", "--traces", "20", "--ui", "--ui-port", String(port)],
      { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      // Read to the end (the demo forwards the explorer's output), the address taken when it comes.
      const url = await new Promise<string | undefined>((resolve) => {
        const lines = createInterface({ input: demo.stdout });
        lines.on("line", (line) => {
          const match = /^trace explorer: (\S+)/.exec(line);
          if (match !== null) resolve(match[1]);
        });
        lines.on("close", () => resolve(undefined));
      });
      expect(url, "the demo printed no trace explorer address").to.match(
        /^http:\/\/127\.0\.0\.1:\d+\/trace\//,
      );
      // Opened the moment it is printed, as a user clicking it would.
      const response = await fetch(url!);
      expect(response.status).to.equal(200);
    } finally {
      demo.kill("SIGINT");
      if (demo.exitCode === null) await once(demo, "exit");
    }
  });
});
