import { spawnSync } from "node:child_process";
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
});
